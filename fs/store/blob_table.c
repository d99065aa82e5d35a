/* The owner of the `blobs` and `extents` tables: every statement that reads or writes them (see
 * blob_table.h). */
#include "blob_table.h"

#include <string.h>

#include "cleanup.h"
#include "schema_internal.h"

/* Step a statement that gives no rows and make it ready for the next call. */
static int step_done(sqlite3_stmt *st, dcfs_error *e)
{
	int r = dcfs_catalog_step(st, e);
	sqlite3_reset(st);
	return r < 0 ? r : 0;
}

/* Call `fn` with column 0 of each row of `sql`. */
static int each_blob(sqlite3 *db, const char *sql, dcfs_blob_fn fn, void *u, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, sql, &st, e);
	while (r >= 0 && (r = dcfs_catalog_step(st, e)) > 0)
		r = fn(u, sqlite3_column_int64(st, 0), e);
	return r;
}

int dcfs_blob_finder_init(dcfs_blob_finder *f, sqlite3 *db, dcfs_error *e)
{
	*f = (dcfs_blob_finder){0};
	return dcfs_catalog_prepare(db,
				    "SELECT b.id, EXISTS (SELECT 1 FROM extents x JOIN chunks c ON c.id = x.chunk_id"
				    " WHERE x.blob_id = b.id AND c.quarantined), b.size FROM blobs b WHERE b.hash = ?1",
				    &f->st, e);
}

/* The finder's row: id, whether a chunk of it is quarantined, size. */
static void read_found(sqlite3_stmt *st, void *out)
{
	dcfs_blob_found *found = out;
	found->id = sqlite3_column_int64(st, 0);
	found->damaged = sqlite3_column_int(st, 1) != 0;
	found->size = sqlite3_column_int64(st, 2);
}

int dcfs_blob_finder_find(dcfs_blob_finder *f, const dcfs_hash *h, dcfs_blob_found *out,
			  dcfs_error *e)
{
	*out = (dcfs_blob_found){0};
	return dcfs_catalog_finder_lookup(f, h->b, DCFS_HASH_LEN, read_found, out, e);
}

int dcfs_blob_writer_init(dcfs_blob_writer *w, sqlite3 *db, dcfs_error *e)
{
	*w = (dcfs_blob_writer){.db = db};
	int r = dcfs_catalog_prepare(db, "INSERT INTO blobs(hash, size) VALUES (?1, ?2)", &w->add, e);
	if (r >= 0)
		r = dcfs_catalog_prepare(db,
					 "INSERT INTO extents(blob_id, file_off, chunk_id, chunk_off, len)"
					 " VALUES (?1, ?2, ?3, ?4, ?5)",
					 &w->extent, e);
	if (r >= 0)
		r = dcfs_catalog_prepare(db, "DELETE FROM extents WHERE blob_id = ?1", &w->drop, e);
	return r;
}

int dcfs_blob_writer_add(dcfs_blob_writer *w, const dcfs_hash *h, uint64_t size, int64_t *id,
			 dcfs_error *e)
{
	sqlite3_bind_blob(w->add, 1, h->b, DCFS_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(w->add, 2, (int64_t)size);
	int r = step_done(w->add, e);
	if (r < 0)
		return r;
	*id = sqlite3_last_insert_rowid(w->db);
	return 0;
}

int dcfs_blob_writer_extent(dcfs_blob_writer *w, int64_t blob_id, uint64_t file_off,
			    int64_t chunk_id, uint32_t chunk_off, uint32_t len, dcfs_error *e)
{
	sqlite3_bind_int64(w->extent, 1, blob_id);
	sqlite3_bind_int64(w->extent, 2, (int64_t)file_off);
	sqlite3_bind_int64(w->extent, 3, chunk_id);
	sqlite3_bind_int64(w->extent, 4, chunk_off);
	sqlite3_bind_int64(w->extent, 5, len);
	return step_done(w->extent, e);
}

int dcfs_blob_writer_drop_extents(dcfs_blob_writer *w, int64_t blob_id, dcfs_error *e)
{
	sqlite3_bind_int64(w->drop, 1, blob_id);
	return step_done(w->drop, e);
}

void dcfs_blob_writer_free(dcfs_blob_writer *w)
{
	sqlite3_finalize(w->add);
	sqlite3_finalize(w->extent);
	sqlite3_finalize(w->drop);
	*w = (dcfs_blob_writer){0};
}

int dcfs_blob_extents_open(dcfs_blob_extents *it, sqlite3 *db, dcfs_error *e)
{
	*it = (dcfs_blob_extents){0};
	return dcfs_catalog_prepare(db,
				    "SELECT x.file_off, x.chunk_off, x.len, c.hash FROM extents x"
				    " JOIN chunks c ON c.id = x.chunk_id WHERE x.blob_id = ?1"
				    " ORDER BY x.file_off",
				    &it->st, e);
}

void dcfs_blob_extents_start(dcfs_blob_extents *it, int64_t blob_id)
{
	sqlite3_reset(it->st);
	sqlite3_bind_int64(it->st, 1, blob_id);
}

int dcfs_blob_extents_next(dcfs_blob_extents *it, dcfs_blob_extent *x, dcfs_error *e)
{
	int r = dcfs_catalog_step(it->st, e);
	if (r <= 0) {
		sqlite3_reset(it->st); /* no read left open between blobs */
		return r;
	}
	x->file_off = (uint64_t)sqlite3_column_int64(it->st, 0);
	x->chunk_off = (uint64_t)sqlite3_column_int64(it->st, 1);
	x->len = (uint64_t)sqlite3_column_int64(it->st, 2);
	x->hashed = sqlite3_column_bytes(it->st, 3) == DCFS_HASH_LEN;
	if (x->hashed)
		memcpy(x->chunk.b, sqlite3_column_blob(it->st, 3), DCFS_HASH_LEN);
	else
		memset(x->chunk.b, 0, DCFS_HASH_LEN);
	return 1;
}

void dcfs_blob_extents_free(dcfs_blob_extents *it)
{
	sqlite3_finalize(it->st);
	it->st = NULL;
}

int dcfs_blob_table_delete_unreferenced(sqlite3 *db, uint64_t *deleted, dcfs_error *e)
{
	return dcfs_catalog_exec_count(db, "DELETE FROM blobs WHERE refs <= 0", deleted, e);
}

int dcfs_blob_table_wrong_refs(sqlite3 *db, dcfs_catalog_mismatch_fn fn, void *u, dcfs_error *e)
{
	return dcfs_catalog_each_mismatch(
		db,
		"SELECT b.id, b.refs, (SELECT count(*) FROM entries en WHERE en.blob_id = b.id) AS n"
		" FROM blobs b WHERE b.refs != n",
		fn, u, e);
}

int dcfs_blob_table_set_refs(sqlite3 *db, int64_t id, int64_t refs, dcfs_error *e)
{
	return dcfs_catalog_run_ids(db, "UPDATE blobs SET refs = ?1 WHERE id = ?2", refs, id, e);
}

int dcfs_blob_table_extents_outside_chunk(sqlite3 *db, dcfs_blob_fn fn, void *u, dcfs_error *e)
{
	return each_blob(db,
			 "SELECT x.blob_id FROM extents x JOIN chunks ch ON ch.id = x.chunk_id"
			 " WHERE x.chunk_off + x.len > ch.plain_size",
			 fn, u, e);
}

int dcfs_blob_table_extents_past_size(sqlite3 *db, dcfs_blob_fn fn, void *u, dcfs_error *e)
{
	return each_blob(db,
			 "SELECT x.blob_id FROM extents x JOIN blobs b ON b.id = x.blob_id"
			 " WHERE x.file_off + x.len > b.size",
			 fn, u, e);
}

int dcfs_blob_table_drop_dangling_extents(sqlite3 *db, dcfs_error *e)
{
	return dcfs_catalog_exec(db,
				 "DELETE FROM extents WHERE chunk_id NOT IN (SELECT id FROM chunks)"
				 " OR blob_id NOT IN (SELECT id FROM blobs)",
				 e);
}

int dcfs_blob_table_figures(sqlite3 *db, dcfs_blob_figures *out, dcfs_error *e)
{
	int64_t v[2];
	int r = dcfs_catalog_ints(db, "SELECT count(*), coalesce(sum(size), 0) FROM blobs", v, 2, e);
	*out = (dcfs_blob_figures){.blobs = v[0], .bytes = v[1]};
	return r;
}

/* The schema of the `blobs` and `extents` tables: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_blob_table_schema[] = {
	{1,
		/* Blobs: distinct file contents. A file's bytes are a list of extents into chunks. */
		"CREATE TABLE blobs ("
		"  id INTEGER PRIMARY KEY,"
		"  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
		"  size INTEGER NOT NULL,"
		"  refs INTEGER NOT NULL DEFAULT 0"          /* entries whose content it is */
		");"
		"CREATE TABLE extents ("
		"  blob_id INTEGER NOT NULL REFERENCES blobs(id) ON DELETE CASCADE,"
		"  file_off INTEGER NOT NULL,"
		"  chunk_id INTEGER NOT NULL REFERENCES chunks(id),"
		"  chunk_off INTEGER NOT NULL,"
		"  len INTEGER NOT NULL CHECK (len > 0),"
		"  PRIMARY KEY (blob_id, file_off)"
		") WITHOUT ROWID;"
		"CREATE INDEX extents_chunk ON extents(chunk_id);"
		/* extents -> chunk references */
		"CREATE TRIGGER extents_ins AFTER INSERT ON extents BEGIN"
		"  UPDATE chunks SET refs = refs + 1 WHERE id = NEW.chunk_id;"
		"END;"
		"CREATE TRIGGER extents_del AFTER DELETE ON extents BEGIN"
		"  UPDATE chunks SET refs = refs - 1 WHERE id = OLD.chunk_id;"
		"END;"
		/* blobs -> sums */
		"CREATE TRIGGER blobs_ins AFTER INSERT ON blobs BEGIN"
		"  UPDATE sums SET value = value + CASE name WHEN 'blobs' THEN 1 ELSE NEW.size END"
		"  WHERE name IN ('blobs','blob_bytes');"
		"END;"
		"CREATE TRIGGER blobs_del AFTER DELETE ON blobs BEGIN"
		"  UPDATE sums SET value = value - CASE name WHEN 'blobs' THEN 1 ELSE OLD.size END"
		"  WHERE name IN ('blobs','blob_bytes');"
		"END;"},
	/* v5: blob keys are made in separate domains (layer_writer.c: blob_key). Keys made before could
	 * collide across kinds (a small file's bytes equal to a large file's chunk list), so they are
	 * retired: each becomes 'legacy-key' and its id, 32 bytes no SHA-256 reaches, which no new key
	 * matches. An old content is found again by chunk name (its large files cost no new chunk
	 * bytes) and gets a new key on its next import. One pass over the blobs, once. */
	{5,
		"UPDATE blobs SET hash = CAST(printf('legacy-key%022d', id) AS BLOB);"},
	{0, NULL},
};
