/* The catalog's `volumes` table: one row per named volume folder STORE/volumes/<name>/ with its
 * bytes and whether a running container binds it. This is the only code that reads or writes
 * the table; launcher/container/volumes.c decides what the rows say. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

typedef struct dcfs_volume_info {
	char *name;
	uint64_t bytes;
	bool in_use;
} dcfs_volume_info;

/* The volumes' rows, by name. */
int dcfs_volumes_list(dcfs_store *s, dcfs_volume_info **out, size_t *n, dcfs_error *e);
void dcfs_volumes_list_free(dcfs_volume_info *list, size_t n);

/* How many rows there are. */
int dcfs_volume_table_count(dcfs_store *s, int64_t *n, dcfs_error *e);

/* Record volume `name` with its bytes and use, made now when it is new. */
int dcfs_volume_table_upsert(dcfs_store *s, const char *name, uint64_t bytes, bool in_use,
			     dcfs_error *e);

int dcfs_volume_table_delete(dcfs_store *s, const char *name, dcfs_error *e);

/* What `du` and `fsck` read of the volumes, computed from the rows. */
typedef struct dcfs_volume_figures {
	int64_t volumes, in_use, bytes; /* what the catalog's sums should say */
	int64_t idle_bytes;             /* the bytes of the volumes no running container binds */
} dcfs_volume_figures;
int dcfs_volume_table_figures(dcfs_store *s, dcfs_volume_figures *out, dcfs_error *e);
