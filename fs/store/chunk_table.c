/* The owner of the `chunks` table: every statement that reads or writes it (see chunk_table.h). */
#include "chunk_table.h"

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "schema_internal.h"

static void read_hash(sqlite3_stmt *st, int col, dcfs_hash *h, bool *hashed)
{
	*hashed = sqlite3_column_bytes(st, col) == DCFS_HASH_LEN;
	if (*hashed)
		memcpy(h->b, sqlite3_column_blob(st, col), DCFS_HASH_LEN);
	else
		memset(h->b, 0, DCFS_HASH_LEN);
}

int dcfs_chunk_finder_init(dcfs_chunk_finder *f, sqlite3 *db, dcfs_error *e)
{
	*f = (dcfs_chunk_finder){0};
	return dcfs_catalog_prepare(db, "SELECT id, quarantined FROM chunks WHERE hash = ?1", &f->st, e);
}

static void read_found(sqlite3_stmt *st, void *out)
{
	*(dcfs_chunk_found *)out = (dcfs_chunk_found){.id = sqlite3_column_int64(st, 0),
						      .quarantined = sqlite3_column_int(st, 1) != 0};
}

int dcfs_chunk_finder_find(dcfs_chunk_finder *f, const dcfs_hash *h, dcfs_chunk_found *out,
			   dcfs_error *e)
{
	*out = (dcfs_chunk_found){0};
	return dcfs_catalog_finder_lookup(f, h->b, DCFS_HASH_LEN, read_found, out, e);
}

int dcfs_chunk_table_add(sqlite3 *db, const dcfs_staged_chunk *chunks, size_t n, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *ins = NULL;
	int r = dcfs_catalog_prepare(db,
				     "INSERT INTO chunks(hash, plain_size, stored_size) VALUES (?1, ?2, ?3)"
				     " ON CONFLICT(hash) DO UPDATE SET quarantined = 0,"
				     " stored_size = excluded.stored_size",
				     &ins, e);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		sqlite3_bind_blob(ins, 1, chunks[i].hash.b, DCFS_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, chunks[i].plain_size);
		sqlite3_bind_int64(ins, 3, chunks[i].stored_size);
		r = dcfs_catalog_step(ins, e);
		sqlite3_reset(ins);
	}
	return r < 0 ? r : 0;
}

int dcfs_chunk_table_quarantine(sqlite3 *db, const dcfs_hash *h, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, "UPDATE chunks SET quarantined = 1 WHERE hash = ?1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_blob(st, 1, h->b, DCFS_HASH_LEN, SQLITE_STATIC);
	r = dcfs_catalog_step(st, e);
	return r < 0 ? r : 0;
}

int dcfs_chunk_table_unreferenced(sqlite3 *db, dcfs_hash **out, size_t *n, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, "SELECT hash FROM chunks WHERE refs = 0", &st, e);
	if (r < 0)
		return r;
	_cleanup_free_ dcfs_hash *list = NULL;
	size_t count = 0, cap = 0;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			dcfs_hash *nl = realloc(list, cap * sizeof(*nl));
			if (!nl)
				return dcfs_error_set(e, ENOMEM, "out of memory");
			list = nl;
		}
		bool hashed;
		read_hash(st, 0, &list[count], &hashed);
		count += hashed;
	}
	if (r < 0)
		return r;
	*out = TAKE_PTR(list);
	*n = count;
	return 0;
}

int dcfs_chunk_table_delete_unreferenced(sqlite3 *db, uint64_t *deleted, dcfs_error *e)
{
	return dcfs_catalog_exec_count(db, "DELETE FROM chunks WHERE refs <= 0", deleted, e);
}

int dcfs_chunk_rows_open(dcfs_chunk_rows *it, sqlite3 *db, dcfs_error *e)
{
	*it = (dcfs_chunk_rows){0};
	return dcfs_catalog_prepare(
		db, "SELECT id, hash, plain_size, stored_size, quarantined, refs FROM chunks", &it->st, e);
}

int dcfs_chunk_rows_next(dcfs_chunk_rows *it, dcfs_chunk_row *row, dcfs_error *e)
{
	int r = dcfs_catalog_step(it->st, e);
	if (r <= 0)
		return r;
	row->id = sqlite3_column_int64(it->st, 0);
	read_hash(it->st, 1, &row->hash, &row->hashed);
	row->plain_size = sqlite3_column_int64(it->st, 2);
	row->stored_size = sqlite3_column_int64(it->st, 3);
	row->quarantined = sqlite3_column_int(it->st, 4) != 0;
	row->refs = sqlite3_column_int64(it->st, 5);
	return 1;
}

void dcfs_chunk_rows_free(dcfs_chunk_rows *it)
{
	sqlite3_finalize(it->st);
	it->st = NULL;
}

int dcfs_chunk_table_set_size(sqlite3 *db, int64_t id, dcfs_chunk_size which, int64_t value,
			      dcfs_error *e)
{
	return dcfs_catalog_run_ids(
		db,
		which == DCFS_CHUNK_PLAIN_SIZE ? "UPDATE chunks SET plain_size = ?1 WHERE id = ?2"
					       : "UPDATE chunks SET stored_size = ?1 WHERE id = ?2",
		value, id, e);
}

int dcfs_chunk_table_wrong_refs(sqlite3 *db, dcfs_catalog_mismatch_fn fn, void *u, dcfs_error *e)
{
	return dcfs_catalog_each_mismatch(
		db,
		"SELECT c.id, c.refs, (SELECT count(*) FROM extents x WHERE x.chunk_id = c.id) AS n"
		" FROM chunks c WHERE c.refs != n",
		fn, u, e);
}

int dcfs_chunk_table_set_refs(sqlite3 *db, int64_t id, int64_t refs, dcfs_error *e)
{
	return dcfs_catalog_run_ids(db, "UPDATE chunks SET refs = ?1 WHERE id = ?2", refs, id, e);
}

int dcfs_chunk_table_figures(sqlite3 *db, dcfs_chunk_figures *out, dcfs_error *e)
{
	int64_t v[5];
	int r = dcfs_catalog_ints(db,
				  "SELECT count(*), coalesce(sum(plain_size), 0), coalesce(sum(stored_size), 0),"
				  " count(*) FILTER (WHERE refs = 0),"
				  " coalesce(sum(stored_size) FILTER (WHERE refs = 0), 0) FROM chunks",
				  v, 5, e);
	*out = (dcfs_chunk_figures){
		.chunks = v[0], .plain = v[1], .stored = v[2], .unref = v[3], .unref_stored = v[4]};
	return r;
}

/* The schema of the `chunks` table: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_chunk_table_schema[] = {
	{1,
		/* Chunks: at most 1 MiB of plain bytes, stored as one zstd frame in chunks/ab/<sha256>. */
		"CREATE TABLE chunks ("
		"  id INTEGER PRIMARY KEY,"
		"  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
		"  plain_size INTEGER NOT NULL CHECK (plain_size BETWEEN 1 AND 1048576),"
		"  stored_size INTEGER NOT NULL CHECK (stored_size > 0),"
		"  refs INTEGER NOT NULL DEFAULT 0,"        /* extents pointing into it */
		"  quarantined INTEGER NOT NULL DEFAULT 0"  /* file moved to quarantine/ by fsck */
		");"
		/* chunks -> sums */
		"CREATE TRIGGER chunks_ins AFTER INSERT ON chunks BEGIN"
		"  UPDATE sums SET value = value + CASE name"
		"    WHEN 'chunks' THEN 1 WHEN 'chunk_plain' THEN NEW.plain_size"
		"    WHEN 'chunk_stored' THEN NEW.stored_size"
		"    WHEN 'chunks_unref' THEN NEW.refs = 0"
		"    WHEN 'chunk_unref_stored' THEN CASE WHEN NEW.refs = 0 THEN NEW.stored_size ELSE 0 END END"
		"  WHERE name IN ('chunks','chunk_plain','chunk_stored','chunks_unref','chunk_unref_stored');"
		"END;"
		"CREATE TRIGGER chunks_del AFTER DELETE ON chunks BEGIN"
		"  UPDATE sums SET value = value - CASE name"
		"    WHEN 'chunks' THEN 1 WHEN 'chunk_plain' THEN OLD.plain_size"
		"    WHEN 'chunk_stored' THEN OLD.stored_size"
		"    WHEN 'chunks_unref' THEN OLD.refs = 0"
		"    WHEN 'chunk_unref_stored' THEN CASE WHEN OLD.refs = 0 THEN OLD.stored_size ELSE 0 END END"
		"  WHERE name IN ('chunks','chunk_plain','chunk_stored','chunks_unref','chunk_unref_stored');"
		"END;"
		/* Most updates move refs from n to n+1, which changes no sum: skip those. */
		"CREATE TRIGGER chunks_upd AFTER UPDATE OF refs, plain_size, stored_size ON chunks"
		"  WHEN (NEW.refs = 0) != (OLD.refs = 0) OR NEW.plain_size != OLD.plain_size"
		"  OR NEW.stored_size != OLD.stored_size BEGIN"
		"  UPDATE sums SET value = value + CASE name"
		"    WHEN 'chunk_plain' THEN NEW.plain_size - OLD.plain_size"
		"    WHEN 'chunk_stored' THEN NEW.stored_size - OLD.stored_size"
		"    WHEN 'chunks_unref' THEN (NEW.refs = 0) - (OLD.refs = 0)"
		"    WHEN 'chunk_unref_stored' THEN CASE WHEN NEW.refs = 0 THEN NEW.stored_size ELSE 0 END"
		"                                 - CASE WHEN OLD.refs = 0 THEN OLD.stored_size ELSE 0 END END"
		"  WHERE name IN ('chunk_plain','chunk_stored','chunks_unref','chunk_unref_stored');"
		"END;"},
	{0, NULL},
};
