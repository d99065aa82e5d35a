/* An image's merged index: the tree its layers make when stacked, with whiteouts and opaque
 * directories applied, recorded once per image in the `image_index` table so that serving it
 * never looks at more than one layer per path. This is the owner of that table: every statement
 * about it is in merged_index.c (see doc/store.md, "Who owns which table"). */
#pragma once

#include <stdint.h>
#include <sqlite3.h>

#include "error.h"
#include "layer_table.h"

/* Compute and record the merged index of `image_id` from its image_layers (bottom = pos 0).
 * Runs inside the caller's transaction. */
int dcfs_merged_index_build(sqlite3 *db, int64_t image_id, dcfs_error *e);

/* Image `image_id`'s merged tree, one entry per path in path order (a parent comes before its
 * children), each with the entry of the layer that shows it. */
typedef struct dcfs_merged_entries {
	sqlite3_stmt *st;
} dcfs_merged_entries;

int dcfs_merged_entries_open(dcfs_merged_entries *it, sqlite3 *db, int64_t image_id,
			     dcfs_error *e);
/* 1 with *row (valid until the next call), 0 at the end, or -errno. */
int dcfs_merged_entries_next(dcfs_merged_entries *it, dcfs_entry_row *row, dcfs_error *e);
void dcfs_merged_entries_free(dcfs_merged_entries *it);

/* fsck --repair: drop the index rows of images or layers that are gone (possible only if
 * foreign keys were off). */
int dcfs_merged_index_drop_dangling(sqlite3 *db, dcfs_error *e);
