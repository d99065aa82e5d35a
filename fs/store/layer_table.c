/* The catalog's `layers` and `entries` tables (see layer_table.h). */
#include "layer_table.h"

#include <stdio.h>
#include <time.h>

#include "catalog.h"
#include "cleanup.h"
#include "entry.h"
#include "schema_internal.h"

/* ---- layers ---- */

int dcfs_layer_find_by_digest(sqlite3 *db, const char *digest, int64_t *id, dcfs_error *e)
{
	*id = 0;
	return dcfs_catalog_int(db, "SELECT id FROM layers WHERE digest = ?1", digest, id, e);
}

int dcfs_layer_find_by_source(sqlite3 *db, const char *source, int64_t *id, dcfs_error *e)
{
	*id = 0;
	return dcfs_catalog_int(db, "SELECT id FROM layers WHERE source = ?1 LIMIT 1", source, id, e);
}

int dcfs_layer_insert(sqlite3 *db, const dcfs_layer_row *row, int64_t *id, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db,
				     "INSERT INTO layers(digest, source, created, entries, files, size)"
				     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
				     &st, e);
	if (r < 0)
		return r;
	const int64_t values[] = {(int64_t)time(NULL), row->entries, row->files, row->size};
	sqlite3_bind_text(st, 1, row->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row->source, -1, SQLITE_STATIC);
	for (int i = 0; i < 4; i++) /* ?3 to ?6 */
		sqlite3_bind_int64(st, 3 + i, values[i]);
	r = dcfs_catalog_step(st, e);
	if (r < 0)
		return r;
	*id = sqlite3_last_insert_rowid(db);
	return 0;
}

int dcfs_layer_delete_unreferenced(sqlite3 *db, uint64_t *deleted, dcfs_error *e)
{
	return dcfs_catalog_exec_count(db, "DELETE FROM layers WHERE refs <= 0", deleted, e);
}

/* ---- what `dcfs du` asks ---- */

/* A sum of layer bytes. */
static int layer_bytes(sqlite3 *db, const char *sql, int64_t *bytes, dcfs_error *e)
{
	int r = dcfs_catalog_int(db, sql, NULL, bytes, e);
	return r < 0 ? r : 0;
}

int dcfs_layer_bytes_of_snapshots_only(sqlite3 *db, int64_t *bytes, dcfs_error *e)
{
	return layer_bytes(db,
			   "SELECT coalesce(sum(l.size), 0) FROM layers l WHERE (EXISTS (SELECT 1"
			   " FROM image_layers il JOIN images i ON i.id = il.image_id"
			   " WHERE il.layer_id = l.id AND i.kind = 'snapshot') OR EXISTS (SELECT 1"
			   " FROM snapshots s WHERE s.workspace_layer = l.id)) AND NOT EXISTS (SELECT 1"
			   " FROM image_layers il JOIN images i ON i.id = il.image_id"
			   " WHERE il.layer_id = l.id AND i.kind = 'image')",
			   bytes, e);
}

int dcfs_layer_bytes_used_by_containers(sqlite3 *db, int64_t *bytes, dcfs_error *e)
{
	return layer_bytes(db,
			   "SELECT coalesce(sum(size), 0) FROM layers WHERE id IN (SELECT"
			   " il.layer_id FROM image_layers il JOIN containers c"
			   " ON c.image_id = il.image_id)",
			   bytes, e);
}

int dcfs_layer_bytes_of_reclaimable_snapshots(sqlite3 *db, int64_t *bytes, dcfs_error *e)
{
	return layer_bytes(
		db,
		"WITH gone(id) AS (SELECT s.image_id FROM snapshots s WHERE s.reclaimable = 1 AND NOT EXISTS"
		"  (SELECT 1 FROM containers c WHERE c.image_id = s.image_id))"
		" SELECT coalesce(sum(l.size), 0) FROM layers l WHERE l.refs > 0 AND NOT EXISTS (SELECT 1"
		"  FROM image_layers il WHERE il.layer_id = l.id AND il.image_id NOT IN gone)"
		"  AND NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.workspace_layer = l.id"
		"  AND s.image_id NOT IN gone)",
		bytes, e);
}

/* ---- what `dcfs fsck` checks ---- */

/* Per count: the layers whose recorded count differs (id, recorded, actual), and its repair. */
static const struct {
	const char *mismatches, *set;
} layer_counts[] = {
	[DCFS_LAYER_REFS] =
		{"SELECT l.id, l.refs, (SELECT count(*) FROM image_layers il WHERE il.layer_id = l.id)"
		 " + (SELECT count(*) FROM snapshots s WHERE s.workspace_layer = l.id) AS n"
		 " FROM layers l WHERE l.refs != n",
		 "UPDATE layers SET refs = ?1 WHERE id = ?2"},
	[DCFS_LAYER_SIZE] =
		{"SELECT l.id, l.size, (SELECT coalesce(sum(size), 0) FROM entries en"
		 " WHERE en.layer_id = l.id AND en.type = 'f') AS n FROM layers l WHERE l.size != n",
		 "UPDATE layers SET size = ?1 WHERE id = ?2"},
	[DCFS_LAYER_ENTRIES] =
		{"SELECT l.id, l.entries, (SELECT count(*) FROM entries en WHERE en.layer_id = l.id)"
		 " AS n FROM layers l WHERE l.entries != n",
		 "UPDATE layers SET entries = ?1 WHERE id = ?2"},
};

int dcfs_layer_count_mismatches(sqlite3 *db, dcfs_layer_count which, dcfs_layer_count_fn each,
				void *u, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, layer_counts[which].mismatches, &st, e);
	if (r < 0)
		return r;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		r = each(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
			 sqlite3_column_int64(st, 2), u);
		if (r < 0)
			return r;
	}
	return r;
}

int dcfs_layer_count_set(sqlite3 *db, dcfs_layer_count which, int64_t id, int64_t value,
			 dcfs_error *e)
{
	return dcfs_catalog_run_ids(db, layer_counts[which].set, value, id, e);
}

int dcfs_layer_sums(sqlite3 *db, dcfs_layer_sum_fn each, void *u, dcfs_error *e)
{
	return dcfs_catalog_each_pair(
		db,
		"SELECT 'layers', count(*) FROM layers"
		" UNION ALL SELECT 'layer_bytes', coalesce(sum(size), 0) FROM layers"
		" UNION ALL SELECT 'layers_unref', count(*) FROM layers WHERE refs = 0"
		" UNION ALL SELECT 'layer_unref_bytes', coalesce(sum(size), 0) FROM layers WHERE refs = 0",
		each, u, e);
}

/* ---- entries ---- */

int dcfs_entry_writer_open(sqlite3 *db, int64_t layer_id, dcfs_entry_writer *w, dcfs_error *e)
{
	*w = (dcfs_entry_writer){.db = db, .layer_id = layer_id};
	return dcfs_catalog_prepare(db,
				    "INSERT INTO entries(layer_id, path, type, mode, uid, gid, mtime_ns, size,"
				    " target, rdev, opaque, xattrs, blob_id)"
				    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
				    &w->st, e);
}

int dcfs_entry_writer_add(dcfs_entry_writer *w, const dcfs_entry_row *en, dcfs_error *e)
{
	sqlite3_stmt *st = w->st;
	char type[2] = {en->type, 0};
	sqlite3_bind_int64(st, 1, w->layer_id);
	sqlite3_bind_text(st, 2, en->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, type, 1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, en->mode);
	sqlite3_bind_int64(st, 5, en->uid);
	sqlite3_bind_int64(st, 6, en->gid);
	sqlite3_bind_int64(st, 7, en->mtime_ns);
	sqlite3_bind_int64(st, 8, (int64_t)en->size);
	if (en->target)
		sqlite3_bind_text(st, 9, en->target, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 9);
	sqlite3_bind_int64(st, 10, (int64_t)en->rdev);
	sqlite3_bind_int(st, 11, en->opaque);
	if (en->xattrs_len)
		sqlite3_bind_blob(st, 12, en->xattrs, (int)en->xattrs_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 12);
	if (en->blob_id > 0)
		sqlite3_bind_int64(st, 13, en->blob_id);
	else
		sqlite3_bind_null(st, 13);
	int r = dcfs_catalog_step(st, e);
	sqlite3_reset(st);
	return r < 0 ? r : 0;
}

void dcfs_entry_writer_free(dcfs_entry_writer *w)
{
	sqlite3_finalize(w->st);
	w->st = NULL;
}

int dcfs_entry_iter_open(sqlite3 *db, int64_t layer_id, dcfs_entry_select which,
			 dcfs_entry_iter *it, dcfs_error *e)
{
	*it = (dcfs_entry_iter){0};
	int r = dcfs_catalog_prepare(db,
				     "SELECT " DCFS_ENTRY_ROW_COLUMNS("") ", opaque FROM entries"
				     " WHERE layer_id = ?1 AND (?2 = 0 OR (type = 'h') = (?2 = 2))"
				     " ORDER BY path",
				     &it->st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(it->st, 1, layer_id);
	sqlite3_bind_int(it->st, 2, which == DCFS_ENTRIES_ALL ? 0
				    : which == DCFS_ENTRIES_HARDLINKS ? 2 : 1);
	return 0;
}

int dcfs_entry_iter_next(dcfs_entry_iter *it, dcfs_error *e)
{
	sqlite3_stmt *st = it->st;
	int r = dcfs_catalog_step(st, e);
	if (r <= 0)
		return r;
	dcfs_entry_row_read(st, &it->row);
	if (!it->row.type)
		it->row.type = DCFS_T_FILE;
	it->row.opaque = sqlite3_column_int64(st, 12) != 0;
	return 1;
}

void dcfs_entry_iter_free(dcfs_entry_iter *it)
{
	sqlite3_finalize(it->st);
	it->st = NULL;
}

int dcfs_entry_each_links_last(sqlite3 *db, int64_t layer_id, dcfs_entry_fn each, void *u,
			       dcfs_error *e)
{
	static const dcfs_entry_select passes[] = {DCFS_ENTRIES_NOT_HARDLINKS, DCFS_ENTRIES_HARDLINKS};
	for (size_t i = 0; i < 2; i++) {
		_cleanup_(dcfs_entry_iter_free) dcfs_entry_iter it = {0};
		int r = dcfs_entry_iter_open(db, layer_id, passes[i], &it, e);
		while (r >= 0 && (r = dcfs_entry_iter_next(&it, e)) > 0)
			r = each(&it.row, u, e);
		if (r < 0)
			return r;
	}
	return 0;
}

int dcfs_entry_files_without_content(sqlite3 *db, int (*each)(int64_t layer_id, void *u), void *u,
				     dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		db, "SELECT layer_id FROM entries WHERE type = 'f' AND size > 0 AND blob_id IS NULL",
		&st, e);
	if (r < 0)
		return r;
	while ((r = dcfs_catalog_step(st, e)) > 0)
		if ((r = each(sqlite3_column_int64(st, 0), u)) < 0)
			return r;
	return r;
}

int dcfs_entry_size_problems(sqlite3 *db, int (*each)(const dcfs_entry_size_problem *p, void *u),
			     void *u, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT en.layer_id, en.path, en.size, b.size FROM entries en"
		 " LEFT JOIN blobs b ON b.id = en.blob_id"
		 " WHERE (en.type IN ('f','h') AND (typeof(en.size) != 'integer' OR en.size < 0"
		 " OR en.size > %llu)) OR en.size != b.size",
		 (unsigned long long)DCFS_LAYER_BYTES_MAX);
	int r = dcfs_catalog_prepare(db, sql, &st, e);
	if (r < 0)
		return r;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		int64_t size = sqlite3_column_int64(st, 2);
		dcfs_entry_size_problem p = {
			.layer_id = sqlite3_column_int64(st, 0),
			.path = (const char *)sqlite3_column_text(st, 1),
			.out_of_range = sqlite3_column_type(st, 3) == SQLITE_NULL ||
					sqlite3_column_type(st, 2) != SQLITE_INTEGER || size < 0 ||
					(uint64_t)size > DCFS_LAYER_BYTES_MAX,
			.size = size,
			.content_size = sqlite3_column_int64(st, 3),
		};
		p.size_text = (const char *)sqlite3_column_text(st, 2);
		if ((r = each(&p, u)) < 0)
			return r;
	}
	return r;
}

int dcfs_entry_drop_dangling(sqlite3 *db, dcfs_error *e)
{
	return dcfs_catalog_exec(db, "DELETE FROM entries WHERE layer_id NOT IN (SELECT id FROM layers)"
				     " OR (blob_id IS NOT NULL AND blob_id NOT IN (SELECT id FROM blobs));",
				 e);
}

void dcfs_entry_row_read(sqlite3_stmt *st, dcfs_entry_row *row)
{
	*row = (dcfs_entry_row){
		.path = (const char *)sqlite3_column_text(st, 0),
		.type = sqlite3_column_text(st, 1) ? (char)sqlite3_column_text(st, 1)[0] : 0,
		.mode = (uint32_t)sqlite3_column_int64(st, 2),
		.uid = (uint32_t)sqlite3_column_int64(st, 3),
		.gid = (uint32_t)sqlite3_column_int64(st, 4),
		.mtime_ns = sqlite3_column_int64(st, 5),
		.size = (uint64_t)sqlite3_column_int64(st, 6),
		.target = (const char *)sqlite3_column_text(st, 7),
		.rdev = (uint64_t)sqlite3_column_int64(st, 8),
		.xattrs = sqlite3_column_blob(st, 9),
		.xattrs_len = (size_t)sqlite3_column_bytes(st, 9),
		.blob_id = sqlite3_column_int64(st, 10),
		.layer_id = sqlite3_column_int64(st, 11),
	};
}

int dcfs_link_targets_open(dcfs_link_targets *f, sqlite3 *db, dcfs_error *e)
{
	*f = (dcfs_link_targets){0};
	return dcfs_catalog_prepare(db,
				    "SELECT " DCFS_ENTRY_ROW_COLUMNS("") " FROM entries"
				    " WHERE layer_id = ?1 AND path = ?2 AND type NOT IN ('h', 'd', 'w')",
				    &f->st, e);
}

int dcfs_link_targets_find(dcfs_link_targets *f, int64_t layer_id, const char *path,
			   dcfs_entry_row *row, dcfs_error *e)
{
	sqlite3_reset(f->st);
	sqlite3_bind_int64(f->st, 1, layer_id);
	sqlite3_bind_text(f->st, 2, path, -1, SQLITE_TRANSIENT);
	int r = dcfs_catalog_step(f->st, e);
	if (r > 0)
		dcfs_entry_row_read(f->st, row);
	return r;
}

void dcfs_link_targets_free(dcfs_link_targets *f)
{
	sqlite3_finalize(f->st);
	f->st = NULL;
}

/* The schema of the `layers` and `entries` tables: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_layer_table_schema[] = {
	{1,
		/* Layers: a file index each. */
		"CREATE TABLE layers ("
		"  id INTEGER PRIMARY KEY,"
		"  digest TEXT NOT NULL UNIQUE,"   /* sha256 of the canonical index */
		"  source TEXT NOT NULL,"
		"  created INTEGER NOT NULL,"
		"  entries INTEGER NOT NULL,"
		"  files INTEGER NOT NULL,"
		"  size INTEGER NOT NULL,"         /* bytes of its regular files, hardlinks counted once */
		"  refs INTEGER NOT NULL DEFAULT 0" /* image_layers rows */
		");"
		"CREATE TABLE entries ("
		"  layer_id INTEGER NOT NULL REFERENCES layers(id) ON DELETE CASCADE,"
		"  path TEXT NOT NULL,"            /* '' is the root, otherwise 'a/b' */
		"  type TEXT NOT NULL CHECK (type IN ('f','d','l','h','c','b','p','s','w')),"
		"  mode INTEGER NOT NULL,"         /* permission bits, 07777 */
		"  uid INTEGER NOT NULL,"
		"  gid INTEGER NOT NULL,"
		"  mtime_ns INTEGER NOT NULL,"
		"  size INTEGER NOT NULL DEFAULT 0,"
		"  target TEXT,"                   /* symlink target, or the path a hardlink shares */
		"  rdev INTEGER NOT NULL DEFAULT 0,"
		"  opaque INTEGER NOT NULL DEFAULT 0,"
		"  xattrs BLOB,"
		"  blob_id INTEGER REFERENCES blobs(id),"
		"  PRIMARY KEY (layer_id, path)"
		") WITHOUT ROWID;"
		"CREATE INDEX entries_blob ON entries(blob_id) WHERE blob_id IS NOT NULL;"
		/* entries -> blob references */
		"CREATE TRIGGER entries_ins AFTER INSERT ON entries WHEN NEW.blob_id IS NOT NULL BEGIN"
		"  UPDATE blobs SET refs = refs + 1 WHERE id = NEW.blob_id;"
		"END;"
		"CREATE TRIGGER entries_del AFTER DELETE ON entries WHEN OLD.blob_id IS NOT NULL BEGIN"
		"  UPDATE blobs SET refs = refs - 1 WHERE id = OLD.blob_id;"
		"END;"
		/* layers -> sums */
		"CREATE TRIGGER layers_ins AFTER INSERT ON layers BEGIN"
		"  UPDATE sums SET value = value + CASE name"
		"    WHEN 'layers' THEN 1 WHEN 'layer_bytes' THEN NEW.size"
		"    WHEN 'layers_unref' THEN NEW.refs = 0"
		"    WHEN 'layer_unref_bytes' THEN CASE WHEN NEW.refs = 0 THEN NEW.size ELSE 0 END END"
		"  WHERE name IN ('layers','layer_bytes','layers_unref','layer_unref_bytes');"
		"END;"
		"CREATE TRIGGER layers_del AFTER DELETE ON layers BEGIN"
		"  UPDATE sums SET value = value - CASE name"
		"    WHEN 'layers' THEN 1 WHEN 'layer_bytes' THEN OLD.size"
		"    WHEN 'layers_unref' THEN OLD.refs = 0"
		"    WHEN 'layer_unref_bytes' THEN CASE WHEN OLD.refs = 0 THEN OLD.size ELSE 0 END END"
		"  WHERE name IN ('layers','layer_bytes','layers_unref','layer_unref_bytes');"
		"END;"
		"CREATE TRIGGER layers_upd AFTER UPDATE OF refs, size ON layers"
		"  WHEN (NEW.refs = 0) != (OLD.refs = 0) OR NEW.size != OLD.size BEGIN"
		"  UPDATE sums SET value = value + NEW.refs * NEW.size - OLD.refs * OLD.size"
		"  WHERE name = 'image_bytes' AND OLD.refs = NEW.refs;"
		"  UPDATE sums SET value = value + CASE name"
		"    WHEN 'layer_bytes' THEN NEW.size - OLD.size"
		"    WHEN 'layers_unref' THEN (NEW.refs = 0) - (OLD.refs = 0)"
		"    WHEN 'layer_unref_bytes' THEN CASE WHEN NEW.refs = 0 THEN NEW.size ELSE 0 END"
		"                                - CASE WHEN OLD.refs = 0 THEN OLD.size ELSE 0 END END"
		"  WHERE name IN ('layer_bytes','layers_unref','layer_unref_bytes');"
		"END;"},
	{0, NULL},
};
