/* An image's merged index: the tree its layers make when stacked, with whiteouts and opaque
 * directories applied, recorded once per image in the `image_index` table so that serving it
 * never looks at more than one layer per path. This is the owner of that table: every statement
 * about it is in merged_index.c (see doc/store.md, "Who owns which table"). */
#pragma once

#include <stdint.h>
#include <sqlite3.h>

#include "error.h"

/* Compute and record the merged index of `image_id` from its image_layers (bottom = pos 0).
 * Runs inside the caller's transaction. */
int dcfs_merged_index_build(sqlite3 *db, int64_t image_id, dcfs_error *e);

/* Prepare the query of image `image_id`'s merged tree, one row per path in path order (so a
 * parent comes before its children), with the columns of its entry: path, type, mode, uid, gid,
 * mtime_ns, size, target, rdev, xattrs, blob_id, layer_id. The caller steps it with
 * dcfs_catalog_step() and finalizes it. */
int dcfs_merged_index_entries_prepare(sqlite3 *db, int64_t image_id, sqlite3_stmt **out,
				      dcfs_error *e);

/* fsck --repair: drop the index rows of images or layers that are gone (possible only if
 * foreign keys were off). */
int dcfs_merged_index_drop_dangling(sqlite3 *db, dcfs_error *e);
