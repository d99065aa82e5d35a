/* Listing and removing images and snapshots, and their size sums. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

typedef struct dcfs_image_info {
	int64_t id;
	char *ref, *kind, *digest;
	int64_t created, last_used;
	int layers;
	uint64_t size;   /* sum of its layers' sizes */
	uint64_t shared; /* of that, in layers other images use too */
	uint64_t unique; /* size - shared */
	/* What no registry or prebuild can give back: an imported image (not pulled), or a
	 * snapshot that is not a prebuild (one the user took, or tagged). */
	bool precious;
} dcfs_image_info;

/* All images, most recently used first; `kind` "image", "snapshot" or NULL for both. */
int dcfs_image_list_list(dcfs_store *s, const char *kind, dcfs_image_info **out, size_t *n, dcfs_error *e);
void dcfs_image_list_free(dcfs_image_info *list, size_t n);

/* Pin an image while a mount serves it: a shared flock on STORE/mnt/image-<id>.lock that lives
 * as long as the returned descriptor. */
int dcfs_image_pin(dcfs_store *s, int64_t image_id, dcfs_error *e);

/* Delete the image row of `ref` (its layers lose a reference). -ENOENT when there is none,
 * -EBUSY when a mount has it pinned. */
int dcfs_image_remove(dcfs_store *s, const char *ref, dcfs_error *e);

/* The config of a stored image whose bytes have DIGEST ("sha256:<hex>"), verified by hashing
 * them, so that a pull need not fetch it again: 1 and *config_json (malloc'd), 0 when no image
 * has it. */
int dcfs_image_config_by_digest(dcfs_store *s, const char *digest, char **config_json, dcfs_error *e);
