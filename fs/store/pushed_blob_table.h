/* The owner of the catalog's `pushed_blobs` table: the blobs `dcfs push` made of a layer (one per
 * compression) and the registries and repositories they went to. The memo's logic (which
 * repository to prefer, what a hit means) is launcher/registry/push_memo.c's; this holds the SQL. */
#pragma once

#include <stdint.h>

#include <sqlite3.h>

#include "error.h"

/* A pushed blob as recorded. */
typedef struct dcfs_pushed_blob {
	char digest[8 + 64], diff_id[8 + 64];
	uint64_t size;
	/* a repository of `registry` that has it ("" when only other registries do) */
	char repository[256];
} dcfs_pushed_blob;

/* The blob of layer `layer_id` written with `compression` ("gzip", "zstd"), preferring one that
 * `registry` has, and there `repository`: 1 with *out filled, 0 when it was never pushed. */
int dcfs_pushed_blob_find(sqlite3 *db, int64_t layer_id, const char *compression,
			  const char *registry, const char *repository, dcfs_pushed_blob *out,
			  dcfs_error *e);

/* A blob to record: what it is and where it went. */
typedef struct dcfs_pushed_blob_row {
	int64_t layer_id;
	const char *compression, *digest, *diff_id;
	uint64_t size;
	const char *registry, *repository;
} dcfs_pushed_blob_row;

/* Record (or record again) that `row->registry`/`row->repository` has the blob. */
int dcfs_pushed_blob_add(sqlite3 *db, const dcfs_pushed_blob_row *row, dcfs_error *e);
