/* The `blobs` and `extents` tables: one row per distinct file content (its key, its size and how
 * many entries use it) and the extents that place its bytes in chunks. All SQL that reads or
 * writes them is in blob_table.c; everything else calls these functions. */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "chunk_table.h"
#include "error.h"
#include "hash.h"

/* Looking contents up by key with one statement, for an import that asks about every file. */
typedef dcfs_catalog_finder dcfs_blob_finder; /* freed with dcfs_catalog_finder_free() */

int dcfs_blob_finder_init(dcfs_blob_finder *f, sqlite3 *db, dcfs_error *e);
typedef struct dcfs_blob_found {
	int64_t id, size; /* 0 when the content is not stored */
	bool damaged;     /* one of its chunks is quarantined */
} dcfs_blob_found;

/* 1 when content `h` is stored (described in *out), 0 when it is not, -errno. Leaves no read
 * open between calls. */
int dcfs_blob_finder_find(dcfs_blob_finder *f, const dcfs_hash *h, dcfs_blob_found *out,
			  dcfs_error *e);

/* Recording contents and their extents, with statements reused across many of them; the calls
 * run inside the caller's transaction. */
typedef struct dcfs_blob_writer {
	sqlite3 *db;
	sqlite3_stmt *add, *extent, *drop;
} dcfs_blob_writer;

int dcfs_blob_writer_init(dcfs_blob_writer *w, sqlite3 *db, dcfs_error *e);
/* A new content row; its id in *id. */
int dcfs_blob_writer_add(dcfs_blob_writer *w, const dcfs_hash *h, uint64_t size, int64_t *id,
			 dcfs_error *e);
/* `len` bytes of content `blob_id` at `file_off` are at `chunk_off` in chunk `chunk_id`. */
int dcfs_blob_writer_extent(dcfs_blob_writer *w, int64_t blob_id, uint64_t file_off,
			    int64_t chunk_id, uint32_t chunk_off, uint32_t len, dcfs_error *e);
/* Forget where content `blob_id`'s bytes are (before giving it new extents). */
int dcfs_blob_writer_drop_extents(dcfs_blob_writer *w, int64_t blob_id, dcfs_error *e);
void dcfs_blob_writer_free(dcfs_blob_writer *w);

/* A blob's extents in file order. Open once, then start it on each blob in turn. */
typedef struct dcfs_blob_extent {
	uint64_t file_off, chunk_off, len;
	dcfs_hash chunk;
	bool hashed; /* the chunk's hash has 32 bytes (the schema's CHECK says it must) */
} dcfs_blob_extent;

typedef struct dcfs_blob_extents {
	sqlite3_stmt *st;
} dcfs_blob_extents;

int dcfs_blob_extents_open(dcfs_blob_extents *it, sqlite3 *db, dcfs_error *e);
/* List blob `blob_id`'s extents from the first. */
void dcfs_blob_extents_start(dcfs_blob_extents *it, int64_t blob_id);
/* 1 with the next extent in *x, 0 after the last, -errno. */
int dcfs_blob_extents_next(dcfs_blob_extents *it, dcfs_blob_extent *x, dcfs_error *e);
void dcfs_blob_extents_free(dcfs_blob_extents *it);

/* Delete the contents no entry uses (their extents go with them); *deleted receives how many. */
int dcfs_blob_table_delete_unreferenced(sqlite3 *db, uint64_t *deleted, dcfs_error *e);

/* For fsck: call `fn` for each content whose `refs` is not the number of entries using it. */
int dcfs_blob_table_wrong_refs(sqlite3 *db, dcfs_catalog_mismatch_fn fn, void *u, dcfs_error *e);
int dcfs_blob_table_set_refs(sqlite3 *db, int64_t id, int64_t refs, dcfs_error *e);

/* A content with a broken extent. */
typedef int (*dcfs_blob_fn)(void *u, int64_t blob_id, dcfs_error *e);
/* Call `fn` for the content of each extent that runs past the end of its chunk. */
int dcfs_blob_table_extents_outside_chunk(sqlite3 *db, dcfs_blob_fn fn, void *u, dcfs_error *e);
/* Call `fn` for the content of each extent that runs past the content's size. */
int dcfs_blob_table_extents_past_size(sqlite3 *db, dcfs_blob_fn fn, void *u, dcfs_error *e);
/* Delete the extents whose chunk or content row is gone. */
int dcfs_blob_table_drop_dangling_extents(sqlite3 *db, dcfs_error *e);

/* What fsck reads of the contents, computed from the rows: what the catalog's sums blobs and
 * blob_bytes should say. */
typedef struct dcfs_blob_figures {
	int64_t blobs, bytes;
} dcfs_blob_figures;
int dcfs_blob_table_figures(sqlite3 *db, dcfs_blob_figures *out, dcfs_error *e);
