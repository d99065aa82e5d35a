/* The `chunks` table: one row per chunk file (its hash, plain and stored sizes, how many extents
 * point into it, whether fsck or a view quarantined it). All SQL that reads or writes the table
 * is in chunk_table.c; everything else calls these functions. */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "chunk_writer.h"
#include "error.h"
#include "hash.h"

/* Looking chunks up by hash with one statement, for code that asks about many chunks (an
 * import, the orphan scan). */
typedef dcfs_catalog_finder dcfs_chunk_finder; /* freed with dcfs_catalog_finder_free() */

int dcfs_chunk_finder_init(dcfs_chunk_finder *f, sqlite3 *db, dcfs_error *e);
typedef struct dcfs_chunk_found {
	int64_t id; /* 0 when the chunk has no row */
	bool quarantined;
} dcfs_chunk_found;

/* 1 when chunk `h` has a row (described in *out), 0 when it has none, -errno. Leaves no read
 * open between calls. */
int dcfs_chunk_finder_find(dcfs_chunk_finder *f, const dcfs_hash *h, dcfs_chunk_found *out,
			   dcfs_error *e);

/* Record chunks just made durable; a chunk that already has a row is no longer quarantined and
 * takes the new stored size. */
int dcfs_chunk_table_add(sqlite3 *db, const dcfs_staged_chunk *chunks, size_t n, dcfs_error *e);

/* Mark chunk `h` quarantined (its file was moved to quarantine/). */
int dcfs_chunk_table_quarantine(sqlite3 *db, const dcfs_hash *h, dcfs_error *e);

/* The hashes of the chunks no extent points into (malloc'd list in *out). */
int dcfs_chunk_table_unreferenced(sqlite3 *db, dcfs_hash **out, size_t *n, dcfs_error *e);
/* Delete the rows of chunks no extent points into; *deleted receives how many. */
int dcfs_chunk_table_delete_unreferenced(sqlite3 *db, uint64_t *deleted, dcfs_error *e);

/* Every chunk row, for fsck. */
typedef struct dcfs_chunk_row {
	int64_t id;
	dcfs_hash hash;
	bool hashed; /* the row's hash has 32 bytes (the schema's CHECK says it must) */
	int64_t plain_size, stored_size, refs;
	bool quarantined;
} dcfs_chunk_row;

typedef struct dcfs_chunk_rows {
	sqlite3_stmt *st;
} dcfs_chunk_rows;

int dcfs_chunk_rows_open(dcfs_chunk_rows *it, sqlite3 *db, dcfs_error *e);
/* 1 with the next row in *row, 0 at the end, -errno. */
int dcfs_chunk_rows_next(dcfs_chunk_rows *it, dcfs_chunk_row *row, dcfs_error *e);
void dcfs_chunk_rows_free(dcfs_chunk_rows *it);

typedef enum dcfs_chunk_size { DCFS_CHUNK_PLAIN_SIZE, DCFS_CHUNK_STORED_SIZE } dcfs_chunk_size;
/* Set a chunk's recorded plain or stored size (fsck's repair). */
int dcfs_chunk_table_set_size(sqlite3 *db, int64_t id, dcfs_chunk_size which, int64_t value,
			      dcfs_error *e);

/* Call `fn` for each chunk whose `refs` is not the number of extents pointing into it. */
int dcfs_chunk_table_wrong_refs(sqlite3 *db, dcfs_catalog_mismatch_fn fn, void *u, dcfs_error *e);
int dcfs_chunk_table_set_refs(sqlite3 *db, int64_t id, int64_t refs, dcfs_error *e);

/* What fsck reads of the chunks, computed from the rows: what the catalog's sums chunks,
 * chunk_plain, chunk_stored, chunks_unref and chunk_unref_stored should say. */
typedef struct dcfs_chunk_figures {
	int64_t chunks, plain, stored, unref, unref_stored;
} dcfs_chunk_figures;
int dcfs_chunk_table_figures(sqlite3 *db, dcfs_chunk_figures *out, dcfs_error *e);
