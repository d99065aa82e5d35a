/* An image's merged index: the tree its layers make when stacked, with whiteouts and opaque
 * directories applied, recorded once per image in the `image_index` table so that serving it
 * never looks at more than one layer per path. */
#pragma once

#include <stdint.h>
#include <sqlite3.h>

#include "error.h"

/* Compute and record the merged index of `image_id` from its image_layers (bottom = pos 0).
 * Runs inside the caller's transaction. */
int dcfs_merged_index_build(sqlite3 *db, int64_t image_id, dcfs_error *e);
