/* The owner of the catalog table `feature_layers`: the image each installed Dev Container
 * Feature made (its layer over the layers below it), keyed by the feature key (the layers
 * below, the feature's content digest, its options and the users it was installed for: see
 * launcher/up/up_features.c). An unchanged feature on the same base is a lookup here; `du`
 * lists the rows with the containers whose image holds the layer; `rebuild --full` drops a
 * configuration's. A row goes with its image (ON DELETE CASCADE). Functions return >= 0 or
 * -errno with a message in `e`. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "error.h"
#include "store.h"

/* 1 with the id of the image feature key `key` made in *image_id; 0 (and 0) when none did. */
int dcfs_feature_layer_find(sqlite3 *db, const char *key, int64_t *image_id, dcfs_error *e);

/* What a feature layer's row says. */
typedef struct dcfs_feature_layer_meta {
	const char *key;
	const char *feature_id, *version;
	const char *source;  /* the key as written in devcontainer.json */
	const char *digest;  /* of the feature's files */
	const char *options; /* the option values, as JSON */
	const char *config_file;
} dcfs_feature_layer_meta;

/* Record that image `image_id` is what `m` installed, now (replacing a row of the same key),
 * inside the caller's transaction. */
int dcfs_feature_layer_record(sqlite3 *db, int64_t image_id, const dcfs_feature_layer_meta *m,
			      dcfs_error *e);

/* One feature layer, for `dcfs du`. */
typedef struct dcfs_feature_layer_info {
	char *key, *ref, *feature_id, *version, *source, *options, *config_file;
	int64_t image_id, created;
	uint64_t size;	  /* bytes of the feature's own layer (the image's top one) */
	char *containers; /* names of the containers whose image holds that layer, ", "-joined, or
			   * NULL */
} dcfs_feature_layer_info;

/* Every feature layer, by configuration file and then in the order they were installed. */
int dcfs_feature_layer_list(dcfs_store *s, dcfs_feature_layer_info **out, size_t *n,
			    dcfs_error *e);
void dcfs_feature_layer_list_free(dcfs_feature_layer_info *list, size_t n);

/* Is image `image_id` a feature layer's (an install makes it again)? 1 or 0. */
int dcfs_feature_layer_is_image(sqlite3 *db, int64_t image_id, dcfs_error *e);
