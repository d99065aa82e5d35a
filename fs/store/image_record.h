/* Recording an image made of layers already in the catalog (a registry pull). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "error.h"
#include "store.h"

/* Record image `ref` (kind "image", pulled) with `config_json` as its OCI config and `layer_ids`
 * bottom first, and build its merged index, in one transaction. Its digest is the SHA-256 of the config,
 * as Docker's image ID is. An existing image of the same name is replaced. */
int dcfs_image_record(dcfs_store *s, const char *ref, const char *config_json,
		      const int64_t *layer_ids, size_t n, dcfs_error *e);

/* The same inside the caller's transaction, with the image's `kind` ("image" or "snapshot")
 * and `digest` given. */
int dcfs_image_record_in(sqlite3 *db, const char *ref, const char *kind, const char *config_json,
			 const char *digest, const int64_t *layer_ids, size_t n, dcfs_error *e);

/* An image's digest: "sha256:" and the SHA-256 of its config, as Docker's image ID is. */
void dcfs_image_digest(const char *config_json, char out[8 + 64 + 1]);

/* The id of a layer recorded from `source` ("blob:sha256:..."), or 0 when there is none. */
int dcfs_image_find_layer(dcfs_store *s, const char *source, int64_t *layer_id, dcfs_error *e);
