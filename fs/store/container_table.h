/* The catalog's `containers` table: one row per dev container (its id, name, image, state, host
 * folder, configuration file and the bytes of its upper directory). This is the only code that
 * reads or writes the table; launcher/container/ keeps the container's folders and lifecycle. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

typedef struct dcfs_container {
	char *id, *name, *state, *folder, *config_file;
	/* the image's ref, NULL when the image is gone: filled by the launcher from the image
	 * (this table's functions leave it NULL) */
	char *image;
	int64_t image_id, created, upper_bytes;
	/* made for a --config file other than the folder's default (config_file): a folder has a
	 * container per configuration, the default one's identity is the folder alone (so that it
	 * stays the same when the default file moves) */
	bool variant;
	/* what runs it: "runc" (dcfs's bundle on its root view) or an engine driven through its
	 * API ("podman", "docker") at engine_host ("unix:///..."), where it is engine_id (NULL
	 * until made there) */
	char *engine, *engine_host, *engine_id;
} dcfs_container;

/* Record container `c` (its id, name, image_id (0: none, an engine's image), folder,
 * config_file, variant, engine (NULL: runc) and engine_host) in state "created", made now. */
int dcfs_container_table_insert(dcfs_store *s, const dcfs_container *c, dcfs_error *e);

/* The row of container `id`: 0 with *out filled, or -ENOENT. */
int dcfs_container_table_get(dcfs_store *s, const char *id, dcfs_container *out, dcfs_error *e);

/* The container of host folder `folder` for configuration `variant` (NULL: the folder's
 * default configuration): 0 with *out filled, or -ENOENT. */
int dcfs_container_table_find(dcfs_store *s, const char *folder, const char *variant,
			      dcfs_container *out, dcfs_error *e);

/* All containers, oldest first (then by name). */
int dcfs_container_table_list(dcfs_store *s, dcfs_container **out, size_t *n, dcfs_error *e);

int dcfs_container_table_set_state(dcfs_store *s, const char *id, const char *state,
				   dcfs_error *e);
int dcfs_container_table_set_upper_bytes(dcfs_store *s, const char *id, uint64_t bytes,
					 dcfs_error *e);

/* The engine's id of container `id` (NULL: none any more). */
int dcfs_container_table_set_engine_id(dcfs_store *s, const char *id, const char *engine_id,
				       dcfs_error *e);

/* Rename container `id`: -EEXIST when another container has that name. */
int dcfs_container_table_rename(dcfs_store *s, const char *id, const char *name, dcfs_error *e);

int dcfs_container_table_delete(dcfs_store *s, const char *id, dcfs_error *e);

/* A container made from image (or snapshot) `image_id`: 1 with its name in *name (malloc'd),
 * 0 when no container uses it. */
int dcfs_container_table_image_user(dcfs_store *s, int64_t image_id, char **name,
				    dcfs_error *e);

/* What `du` and `fsck` read of the containers, computed from the rows. */
typedef struct dcfs_container_figures {
	int64_t containers, running, upper_bytes; /* what the catalog's sums should say */
	int64_t idle_bytes;     /* the upper directories' bytes of the containers not running */
	int64_t images_used;    /* distinct images (of kind "image") containers are made from */
	int64_t snapshots_used; /* distinct snapshots containers are made from */
} dcfs_container_figures;
int dcfs_container_table_figures(dcfs_store *s, dcfs_container_figures *out, dcfs_error *e);

void dcfs_container_free(dcfs_container *c);
void dcfs_container_list_free(dcfs_container *list, size_t n);
