/* The catalog's `workspaces` table (see workspace_record.h). */
#include "workspace_record.h"

#include <time.h>

#include "catalog.h"
#include "cleanup.h"
#include "schema_internal.h"

int dcfs_workspace_record_write(sqlite3 *db, const char *path, int64_t bytes, int64_t files,
				bool in_use, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		db,
		"INSERT INTO workspaces(path, bytes, files, in_use, updated) VALUES (?1, ?2, ?3, "
		"?4, ?5)"
		" ON CONFLICT(path) DO UPDATE SET bytes = excluded.bytes, files = excluded.files,"
		" in_use = excluded.in_use, updated = excluded.updated",
		&st, e);
	if (r < 0)
		return r;
	const int64_t values[] = {bytes, files, in_use, (int64_t)time(NULL)}; /* ?2 to ?5 */
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	for (int i = 0; i < 4; i++)
		sqlite3_bind_int64(st, 2 + i, values[i]);
	if (sqlite3_step(st) != SQLITE_DONE)
		return dcfs_catalog_error(db, e, "updating the workspace row");
	return 0;
}

int dcfs_workspace_record_in_use(sqlite3 *db, const char *path, dcfs_error *e)
{
	int64_t in_use = 0;
	int r = dcfs_catalog_int(db, "SELECT count(*) FROM workspaces WHERE path = ?1 AND in_use = 1",
				 path, &in_use, e);
	return r < 0 ? r : in_use != 0;
}

int dcfs_workspace_record_forget(sqlite3 *db, const char *path, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, "DELETE FROM workspaces WHERE path = ?1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return dcfs_catalog_error(db, e, "forgetting the prebuild's workspace");
	return 0;
}

int dcfs_workspace_record_sums(sqlite3 *db, int (*each)(const char *name, int64_t value, void *u),
			       void *u, dcfs_error *e)
{
	return dcfs_catalog_each_pair(
		db,
		"SELECT 'workspaces', count(*) FROM workspaces"
		" UNION ALL SELECT 'workspaces_in_use', count(*) FROM workspaces WHERE in_use != 0"
		" UNION ALL SELECT 'workspace_bytes', coalesce(sum(bytes), 0) FROM workspaces",
		each, u, e);
}

/* The schema of the `workspaces` table: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_workspace_record_schema[] = {
	{1,
		"CREATE TABLE workspaces ("
		"  path TEXT PRIMARY KEY,"
		"  bytes INTEGER NOT NULL DEFAULT 0,"
		"  files INTEGER NOT NULL DEFAULT 0,"
		"  in_use INTEGER NOT NULL DEFAULT 0,"
		"  updated INTEGER NOT NULL"
		");"
		"CREATE TRIGGER workspaces_ins AFTER INSERT ON workspaces BEGIN"
		"  UPDATE sums SET value = value + CASE name WHEN 'workspaces' THEN 1"
		"    WHEN 'workspaces_in_use' THEN NEW.in_use != 0 ELSE NEW.bytes END"
		"  WHERE name IN ('workspaces','workspaces_in_use','workspace_bytes');"
		"END;"
		"CREATE TRIGGER workspaces_del AFTER DELETE ON workspaces BEGIN"
		"  UPDATE sums SET value = value - CASE name WHEN 'workspaces' THEN 1"
		"    WHEN 'workspaces_in_use' THEN OLD.in_use != 0 ELSE OLD.bytes END"
		"  WHERE name IN ('workspaces','workspaces_in_use','workspace_bytes');"
		"END;"
		"CREATE TRIGGER workspaces_upd AFTER UPDATE OF in_use, bytes ON workspaces BEGIN"
		"  UPDATE sums SET value = value + CASE name"
		"    WHEN 'workspaces_in_use' THEN (NEW.in_use != 0) - (OLD.in_use != 0)"
		"    ELSE NEW.bytes - OLD.bytes END"
		"  WHERE name IN ('workspaces_in_use','workspace_bytes');"
		"END;"},
	{0, NULL},
};
