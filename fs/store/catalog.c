/* Opening and migrating the SQLite catalog, and the small helpers every catalog user needs. */
#include "catalog.h"
#include "schema_internal.h"

#include <string.h>

int dcfs_catalog_error(sqlite3 *db, dcfs_error *e, const char *what)
{
	int rc = sqlite3_extended_errcode(db);
	int code = EIO;
	switch (rc & 0xff) {
	case SQLITE_FULL:
		code = ENOSPC;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = EBUSY;
		break;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		code = EACCES;
		break;
	case SQLITE_CANTOPEN:
		code = ENOENT;
		break;
	case SQLITE_CONSTRAINT:
		code = EEXIST;
		break;
	case SQLITE_NOMEM:
		code = ENOMEM;
		break;
	}
	return dcfs_error_set(e, code, "%s: %s", what, sqlite3_errmsg(db));
}

int dcfs_catalog_exec(sqlite3 *db, const char *sql, dcfs_error *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int r = dcfs_catalog_error(db, e, "catalog");
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

void dcfs_catalog_rollback(sqlite3 *db)
{
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

void dcfs_catalog_close(sqlite3 **db)
{
	sqlite3_close(*db);
	*db = NULL;
}

int64_t dcfs_catalog_total_changes(sqlite3 *db)
{
	return sqlite3_total_changes64(db);
}

int dcfs_catalog_quick_check(sqlite3 *db, void (*each)(const char *line, void *u), void *u,
			     bool *ok, dcfs_error *e)
{
	*ok = false;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, "PRAGMA quick_check", &st, e);
	while (r >= 0 && (r = dcfs_catalog_step(st, e)) > 0) {
		const char *line = (const char *)sqlite3_column_text(st, 0);
		if (line && strcmp(line, "ok") == 0)
			*ok = true;
		else
			each(line ? line : "damaged", u);
	}
	return r;
}

int dcfs_catalog_foreign_key_check(sqlite3 *db,
				   void (*each)(const char *table, const char *parent, void *u),
				   void *u, dcfs_error *e)
{
	/* rows of (table, rowid, parent, fkid) */
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, "PRAGMA foreign_key_check", &st, e);
	while (r >= 0 && (r = dcfs_catalog_step(st, e)) > 0)
		each((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 2),
		     u);
	return r;
}

int dcfs_catalog_exec_count(sqlite3 *db, const char *sql, uint64_t *changes, dcfs_error *e)
{
	*changes = 0;
	int r = dcfs_catalog_exec(db, sql, e);
	if (r >= 0)
		*changes = (uint64_t)sqlite3_changes(db);
	return r < 0 ? r : 0;
}

int dcfs_catalog_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, dcfs_error *e)
{
	if (sqlite3_prepare_v2(db, sql, -1, out, NULL) != SQLITE_OK)
		return dcfs_catalog_error(db, e, "catalog");
	return 0;
}

char *dcfs_catalog_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? strdup((const char *)t) : NULL;
}

int64_t dcfs_catalog_sum(sqlite3 *db, const char *name)
{
	int64_t v = 0;
	if (dcfs_catalog_int(db, "SELECT value FROM sums WHERE name = ?1", name, &v, NULL) < 0)
		return 0;
	return v;
}

int dcfs_catalog_sum_recorded(sqlite3 *db, const char *name, int64_t *value, bool *integer,
			      dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, "SELECT value FROM sums WHERE name = ?1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	r = dcfs_catalog_step(st, e);
	*value = r > 0 ? sqlite3_column_int64(st, 0) : 0;
	*integer = r <= 0 || sqlite3_column_type(st, 0) == SQLITE_INTEGER;
	return r < 0 ? r : 0;
}

int dcfs_catalog_sum_set(sqlite3 *db, const char *name, int64_t value, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, "UPDATE sums SET value = ?1 WHERE name = ?2", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, value);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	r = dcfs_catalog_step(st, e);
	return r < 0 ? r : 0;
}

int dcfs_catalog_ints(sqlite3 *db, const char *sql, int64_t *out, int n, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, sql, &st, e);
	if (r >= 0)
		r = dcfs_catalog_step(st, e);
	for (int i = 0; i < n; i++)
		out[i] = r > 0 ? sqlite3_column_int64(st, i) : 0;
	return r < 0 ? r : 0;
}

int dcfs_catalog_each_mismatch(sqlite3 *db, const char *sql, dcfs_catalog_mismatch_fn fn, void *u,
			       dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, sql, &st, e);
	while (r >= 0 && (r = dcfs_catalog_step(st, e)) > 0)
		r = fn(u, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
		       sqlite3_column_int64(st, 2), e);
	return r;
}

int dcfs_catalog_finder_lookup(dcfs_catalog_finder *f, const void *key, int len,
			       void (*read)(sqlite3_stmt *st, void *out), void *out, dcfs_error *e)
{
	sqlite3_reset(f->st);
	sqlite3_bind_blob(f->st, 1, key, len, SQLITE_STATIC);
	int r = dcfs_catalog_step(f->st, e);
	if (r > 0)
		read(f->st, out);
	sqlite3_reset(f->st);
	return r;
}

void dcfs_catalog_finder_free(dcfs_catalog_finder *f)
{
	sqlite3_finalize(f->st);
	f->st = NULL;
}

int dcfs_catalog_step(sqlite3_stmt *st, dcfs_error *e)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return dcfs_catalog_error(sqlite3_db_handle(st), e, "catalog");
}

int dcfs_catalog_run_ids(sqlite3 *db, const char *sql, int64_t a, int64_t b, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, sql, &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	r = dcfs_catalog_step(st, e);
	return r < 0 ? r : 0;
}

int dcfs_catalog_int(sqlite3 *db, const char *sql, const char *param, int64_t *out, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, sql, &st, e);
	if (r < 0)
		return r;
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	r = dcfs_catalog_step(st, e);
	*out = r > 0 ? sqlite3_column_int64(st, 0) : 0;
	return r;
}

int dcfs_catalog_each_pair(sqlite3 *db, const char *sql,
			   int (*each)(const char *name, int64_t value, void *u), void *u,
			   dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, sql, &st, e);
	if (r < 0)
		return r;
	while ((r = dcfs_catalog_step(st, e)) > 0)
		if ((r = each((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
			      u)) < 0)
			return r;
	return r;
}

int dcfs_catalog_check_sums(sqlite3 *db, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, "SELECT name FROM sums WHERE typeof(value) != 'integer'", &st, e);
	if (r >= 0)
		r = dcfs_catalog_step(st, e);
	if (r <= 0)
		return r;
	return dcfs_error_set(e, EOVERFLOW, "catalog: the store's sum '%s' would overflow",
			      (const char *)sqlite3_column_text(st, 0));
}

static int migrate(sqlite3 *db, dcfs_error *e)
{
	int64_t version = 0;
	int r = dcfs_catalog_int(db, "PRAGMA user_version", NULL, &version, e);
	if (r < 0)
		return r;
	if (version == dcfs_catalog_version)
		return 0;
	if (version > dcfs_catalog_version)
		return dcfs_error_set(e, EPROTO,
				      "catalog schema version %lld is newer than this dcfs (%d)",
				      (long long)version, dcfs_catalog_version);
	r = dcfs_catalog_exec(db, "BEGIN IMMEDIATE", e);
	if (r < 0)
		return r;
	/* Another process may have migrated while we waited for the write lock. */
	r = dcfs_catalog_int(db, "PRAGMA user_version", NULL, &version, e);
	for (int v = (int)version; r >= 0 && v < dcfs_catalog_version; v++) {
		r = dcfs_catalog_migrate_step(db, v + 1, e);
		if (r >= 0) {
			char sql[64];
			snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
			r = dcfs_catalog_exec(db, sql, e);
		}
	}
	if (r < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		dcfs_error_wrap(e, "migrating the catalog");
		return r;
	}
	return dcfs_catalog_exec(db, "COMMIT", e);
}

int dcfs_catalog_open(const char *path, sqlite3 **out, dcfs_error *e)
{
	_cleanup_(sqlite3_closep) sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK)
		return dcfs_error_set(e, rc == SQLITE_CANTOPEN ? ENOENT : EIO, "cannot open catalog '%s': %s",
				      path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	sqlite3_busy_timeout(db, 30000);
	int r = dcfs_catalog_exec(db,
				  "PRAGMA journal_mode = WAL;"
				  "PRAGMA synchronous = FULL;"
				  "PRAGMA foreign_keys = ON;"
				  "PRAGMA temp_store = MEMORY;",
				  e);
	if (r >= 0)
		r = migrate(db, e);
	if (r < 0) {
		dcfs_error_wrap(e, "%s", path);
		return r;
	}
	*out = TAKE_PTR(db);
	return 0;
}

/* The schema of the `sums` table: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_catalog_sums_schema[] = {
	{1,
		/* The sums. */
		"CREATE TABLE sums (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
		"INSERT INTO sums(name, value) VALUES"
		"  ('chunks',0),('chunk_plain',0),('chunk_stored',0),('chunks_unref',0),('chunk_unref_stored',0),"
		"  ('blobs',0),('blob_bytes',0),"
		"  ('layers',0),('layer_bytes',0),('layers_unref',0),('layer_unref_bytes',0),"
		"  ('images',0),('snapshots',0),('image_bytes',0),"
		"  ('containers',0),('containers_running',0),('container_bytes',0),"
		"  ('volumes',0),('volumes_in_use',0),('volume_bytes',0),"
		"  ('workspaces',0),('workspaces_in_use',0),('workspace_bytes',0);"},
	{0, NULL},
};
