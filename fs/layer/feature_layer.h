/* A Dev Container Feature's install kept: the upper directory its install.sh left, stored as
 * one layer over the image it ran on, recorded as an image (kind "image", so that it mounts,
 * pushes and lists like any image) with the config the installer gives, and its
 * `feature_layers` row (fs/store/feature_table.h) -- the image, its layer list, merged index
 * and the row commit together, after the layer's chunks are durable, so a crash leaves at most
 * an unreferenced layer that `dcfs prune` reclaims. */
#pragma once

#include <stdint.h>

#include "error.h"
#include "feature_table.h"
#include "layer_writer.h"
#include "store.h"

/* Ingest `upper` as a layer over image `base_id` and record image `ref` (replacing one of that
 * name) with OCI config `config_json` and the row `m`: *image_id receives its id; *stats
 * (optional) the layer writer's figures. */
int dcfs_feature_layer_take(dcfs_store *s, const char *upper, int64_t base_id, const char *ref,
			    const char *config_json, const dcfs_feature_layer_meta *m,
			    int64_t *image_id, dcfs_layer_writer_stats *stats, dcfs_error *e);
