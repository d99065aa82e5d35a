/* The catalog's `pushed_blobs` table (see pushed_blob_table.h). */
#include "pushed_blob_table.h"

#include <stdio.h>

#include "catalog.h"
#include "cleanup.h"
#include "schema_internal.h"

int dcfs_pushed_blob_find(sqlite3 *db, int64_t layer_id, const char *compression,
			  const char *registry, const char *repository, dcfs_pushed_blob *out,
			  dcfs_error *e)
{
	*out = (dcfs_pushed_blob){0};
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		db,
		"SELECT digest, diff_id, size, CASE WHEN registry = ?3 THEN repository ELSE '' END"
		" FROM pushed_blobs WHERE layer_id = ?1 AND compression = ?2"
		" ORDER BY registry = ?3 DESC, repository = ?4 DESC LIMIT 1",
		&st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, layer_id);
	sqlite3_bind_text(st, 2, compression, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, registry, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, repository, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return dcfs_catalog_error(db, e, "reading pushed blobs");
	snprintf(out->digest, sizeof(out->digest), "%s", sqlite3_column_text(st, 0));
	snprintf(out->diff_id, sizeof(out->diff_id), "%s", sqlite3_column_text(st, 1));
	out->size = (uint64_t)sqlite3_column_int64(st, 2);
	snprintf(out->repository, sizeof(out->repository), "%s", sqlite3_column_text(st, 3));
	return 1;
}

int dcfs_pushed_blob_add(sqlite3 *db, const dcfs_pushed_blob_row *row, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		db,
		"INSERT OR REPLACE INTO pushed_blobs(layer_id, compression, digest, diff_id, size,"
		" registry, repository) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		&st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, row->layer_id);
	sqlite3_bind_text(st, 2, row->compression, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, row->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, row->diff_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)row->size);
	sqlite3_bind_text(st, 6, row->registry, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, row->repository, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return dcfs_catalog_error(db, e, "recording a pushed blob");
	return 0;
}

/* The schema of the `pushed_blobs` table: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_pushed_blob_table_schema[] = {
	/* v4: the layer blobs `dcfs push` made (a layer compressed one way always gives the same
	 * bytes) and where it put them, so that a later push skips writing a blob the registry has and
	 * mounts it from another repository of the same registry rather than uploading it again;
	 * whether an image was pulled; and the sums follow an image whose kind changes. */
	{4,
		"CREATE TABLE pushed_blobs ("
		"  layer_id INTEGER NOT NULL REFERENCES layers(id) ON DELETE CASCADE,"
		"  compression TEXT NOT NULL,"
		"  digest TEXT NOT NULL,"
		"  diff_id TEXT NOT NULL,"
		"  size INTEGER NOT NULL,"
		"  registry TEXT NOT NULL,"
		"  repository TEXT NOT NULL,"
		"  PRIMARY KEY (layer_id, compression, registry, repository)"
		");"},
	{0, NULL},
};
