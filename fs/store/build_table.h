/* The owner of the catalog table `builds`: which stored image a Dockerfile build made, keyed by
 * the build key (launcher/build/build_key.h), and the configuration and builder that made it.
 * An unchanged build is a lookup here; `du` lists the rows; `rebuild --full` drops a
 * configuration's. A row goes with its image (ON DELETE CASCADE). Functions return >= 0 or -errno
 * with a message in `e`. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "error.h"
#include "store.h"

/* 1 with the id of the image built with `key` in *image_id; 0 (and *image_id 0) when none is. */
int dcfs_build_find(sqlite3 *db, const char *key, int64_t *image_id, dcfs_error *e);

/* Record that image `image_id` was built with `key` from `config_file` by `builder`, now
 * (replacing a row of the same key). */
int dcfs_build_record(sqlite3 *db, const char *key, int64_t image_id, const char *config_file,
		      const char *builder, dcfs_error *e);

/* One built image, for `dcfs du`. */
typedef struct dcfs_build_info {
	char *key, *ref, *config_file, *builder;
	int64_t image_id, created;
	char *used_by; /* a container made from it, or NULL */
} dcfs_build_info;

/* Every built image, grouped by configuration file, newest first within each. */
int dcfs_build_list(dcfs_store *s, dcfs_build_info **out, size_t *n, dcfs_error *e);
void dcfs_build_list_free(dcfs_build_info *list, size_t n);

/* The names of the images built from `config_file`, but for image `keep` (0: none kept), in a
 * malloc'd array of malloc'd strings. */
int dcfs_build_refs_of_config(sqlite3 *db, const char *config_file, int64_t keep, char ***refs,
			      size_t *n, dcfs_error *e);

/* Is image `image_id` a build (a builder can make it again)? 1 or 0. */
int dcfs_build_is_image(sqlite3 *db, int64_t image_id, dcfs_error *e);
