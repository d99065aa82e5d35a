/* The owner of the catalog's `workspaces` table: one row per folder a workspace view serves, with
 * the bytes and regular files it holds and whether a view serves it now. The workspace view
 * (fs/workspace/workspace_account.c) writes it; a prebuild forgets its copy-on-write view's row;
 * fsck recomputes the sums its triggers keep. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "error.h"

/* Write the row of `path` (made when missing), stamped with the current time. */
int dcfs_workspace_record_write(sqlite3 *db, const char *path, int64_t bytes, int64_t files,
				bool in_use, dcfs_error *e);

/* 1 when the row of `path` says a view serves it, 0 when not (or when there is no row). */
int dcfs_workspace_record_in_use(sqlite3 *db, const char *path, dcfs_error *e);

/* Delete the row of `path` (nothing when there is none). */
int dcfs_workspace_record_forget(sqlite3 *db, const char *path, dcfs_error *e);

/* The sums the triggers keep for this table, recomputed from the rows: `each(name, value, u)`
 * for `workspaces`, `workspaces_in_use` and `workspace_bytes`, in that order. A negative return
 * of `each` stops and is returned. */
int dcfs_workspace_record_sums(sqlite3 *db, int (*each)(const char *name, int64_t value, void *u),
			       void *u, dcfs_error *e);
