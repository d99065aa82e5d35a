/* The owner of the catalog tables `images` and `image_layers`: every statement that reads or
 * writes them is in image_table.c, behind these functions (see doc/store.md, "Who owns which
 * table"). Functions return >= 0 or -errno with a message in `e`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "error.h"
#include "image_list.h"
#include "store.h"

/* One row of `images`; strings malloc'd (NULL only where the row holds NULL). */
typedef struct dcfs_image_row {
	int64_t id;
	char *ref;
	char *kind;   /* "image" or "snapshot" */
	char *digest; /* "sha256:<hex>" of the config */
	char *config; /* the OCI config JSON ("{}" when the row has none) */
	int64_t created, last_used;
	bool pulled;
} dcfs_image_row;

void dcfs_image_row_free(dcfs_image_row *row);

/* The image (or snapshot) named `ref`: 0 with *out filled, -ENOENT when there is none (with no
 * message: the caller says what it was looking for). */
int dcfs_image_lookup(dcfs_store *s, const char *ref, dcfs_image_row *out, dcfs_error *e);

/* The id of the image (or snapshot) named `ref`: 0, or -ENOENT with "no such image: 'REF'". */
int dcfs_image_id(dcfs_store *s, const char *ref, int64_t *id, dcfs_error *e);

/* The same by id. */
int dcfs_image_lookup_id(dcfs_store *s, int64_t id, dcfs_image_row *out, dcfs_error *e);

/* Replace any image named `ref` by a new row (created and last used now): *id receives its id. */
int dcfs_image_insert(sqlite3 *db, const char *ref, const char *kind, const char *config_json,
		      const char *digest, int64_t *id, dcfs_error *e);

/* Record `layer_ids` (bottom first) as the layers of image `image_id`. */
int dcfs_image_layers_add(sqlite3 *db, int64_t image_id, const int64_t *layer_ids, size_t n,
			  dcfs_error *e);

/* The layers of image `image_id`, bottom first, in a malloc'd array (NULL when it has none),
 * with room for `extra` more ids after them. */
int dcfs_image_layers_get(sqlite3 *db, int64_t image_id, size_t extra, int64_t **ids, size_t *n,
			  dcfs_error *e);

/* Image `ref` came from a registry (`dcfs prune --purge` may drop it: a pull gives it back). */
int dcfs_image_mark_pulled(sqlite3 *db, const char *ref, dcfs_error *e);

/* Image `id` is used now (best effort: a read-only catalog still serves). */
void dcfs_image_touch(sqlite3 *db, int64_t id);

/* Delete the row of `ref` (its layers lose a reference): 1 when there was one, 0 when not. */
int dcfs_image_delete(sqlite3 *db, const char *ref, dcfs_error *e);

/* Make image `ref` a snapshot when its config carries label `key_label` (a
 * '$.config.Labels."..."' JSON path): 1 when it did, 0 when not. */
int dcfs_image_make_snapshot(sqlite3 *db, const char *ref, const char *key_label, dcfs_error *e);

/* Image `id`'s config with '$.created' set to now and the label paths `labels[i][0]` set to
 * `labels[i][1]` (NULL: JSON null), in that order: -ENOENT (no message) when the image is gone. */
int dcfs_image_config_labelled(sqlite3 *db, int64_t id, const char *const (*labels)[2], size_t n,
			       char **out, dcfs_error *e);

/* All images for `dcfs images` (see dcfs_image_list_list). */
int dcfs_image_table_list(dcfs_store *s, const char *kind, dcfs_image_info **out, size_t *n,
			  dcfs_error *e);

/* Call `fn` with each distinct stored config (its bytes and length) until it returns non-zero,
 * which is then returned. */
int dcfs_image_each_config(dcfs_store *s, int (*fn)(const char *config, size_t len, void *u),
			   void *u, dcfs_error *e);

/* fsck --repair: drop the layer lists of images that are gone or that name a layer that is
 * gone (possible only if foreign keys were off). */
int dcfs_image_layers_drop_dangling(sqlite3 *db, dcfs_error *e);
