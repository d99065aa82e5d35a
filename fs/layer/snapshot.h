/* Snapshots: a container's overlay upper directory stored as one more layer over its image.
 *
 * A snapshot is an image of kind "snapshot" whose layers are its base image's and the new one,
 * so it mounts, pushes and is removed like any image; its row in the `snapshots` table says
 * what it was taken from (see doc/store.md). Prebuild snapshots are grouped per configuration
 * file, newest first; retention marks the older ones reclaimable and `dcfs prune` removes
 * them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "layer_writer.h"
#include "snapshot_table.h" /* the snapshot rows: listing, finding, retaining */
#include "store.h"

/* Ingest `upper` (an overlay upper directory; nothing may write to it meanwhile) as a layer and
 * record snapshot `ref` over image `base_id`, with `m` (and m->workspace_upper as its workspace
 * layer), in one transaction after the chunks are
 * durable: until then nothing lists it. A name that is taken (an image or a snapshot) is
 * refused with -EEXIST.
 * *stats (optional) receives the layer writer's figures. */
int dcfs_snapshot_take(dcfs_store *s, const char *upper, int64_t base_id, const char *ref,
		       const dcfs_snapshot_meta *m, dcfs_layer_writer_stats *stats, dcfs_error *e);

/* Image `ref` was pulled: when its config carries the labels of a dcfs snapshot (one pushed
 * from another store), make it a snapshot here, with the key and stage the labels give (no
 * folder or configuration file: it was made elsewhere), so that `up` can start from it.
 * *adopted tells whether it was one. */
int dcfs_snapshot_adopt(dcfs_store *s, const char *ref, bool *adopted, dcfs_error *e);

/* Remove the reclaimable snapshots no container was made from and no mount pins; calls
 * `removed` with each one's name. The caller then collects what they held (dcfs_gc). */
int dcfs_snapshot_prune(dcfs_store *s, void (*removed)(const char *ref, void *u), void *u,
			dcfs_error *e);
