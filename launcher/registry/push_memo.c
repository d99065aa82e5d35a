/* The catalog's memory of pushed layer blobs (see push_memo.h). */
#include "push_memo.h"

#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"

static const char *compression_name(dcfs_push_compression c)
{
	return c == DCFS_PUSH_GZIP ? "gzip" : "zstd";
}

int push_memo_find(dcfs_store *s, int64_t layer_id, dcfs_push_compression c, const char *registry,
		   const char *repository, push_memo *out, dcfs_error *e)
{
	*out = (push_memo){0};
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		s->db,
		"SELECT digest, diff_id, size, CASE WHEN registry = ?3 THEN repository ELSE '' END"
		" FROM pushed_blobs WHERE layer_id = ?1 AND compression = ?2"
		" ORDER BY registry = ?3 DESC, repository = ?4 DESC LIMIT 1",
		&st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, layer_id);
	sqlite3_bind_text(st, 2, compression_name(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, registry, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, repository, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return dcfs_catalog_error(s->db, e, "reading pushed blobs");
	snprintf(out->digest, sizeof(out->digest), "%s", sqlite3_column_text(st, 0));
	snprintf(out->diff_id, sizeof(out->diff_id), "%s", sqlite3_column_text(st, 1));
	out->size = (uint64_t)sqlite3_column_int64(st, 2);
	snprintf(out->from, sizeof(out->from), "%s", sqlite3_column_text(st, 3));
	out->here = !strcmp(out->from, repository);
	return 1;
}

int push_memo_add(dcfs_store *s, int64_t layer_id, dcfs_push_compression c, const char *digest,
		  const char *diff_id, uint64_t size, const char *registry, const char *repository,
		  dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		s->db,
		"INSERT OR REPLACE INTO pushed_blobs(layer_id, compression, digest, diff_id, size,"
		" registry, repository) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		&st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, layer_id);
	sqlite3_bind_text(st, 2, compression_name(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, diff_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)size);
	sqlite3_bind_text(st, 6, registry, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, repository, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return dcfs_catalog_error(s->db, e, "recording a pushed blob");
	return 0;
}
