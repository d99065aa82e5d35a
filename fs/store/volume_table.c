/* The catalog's `volumes` table (see volume_table.h): every statement that reads or writes it. */
#include "volume_table.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "cleanup.h"
#include "schema_internal.h"

int dcfs_volumes_list(dcfs_store *s, dcfs_volume_info **out, size_t *n, dcfs_error *e)
{
	*out = NULL;
	*n = 0;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(s->db, "SELECT name, bytes, in_use FROM volumes ORDER BY name",
				     &st, e);
	while (r >= 0 && (r = dcfs_catalog_step(st, e)) > 0) {
		dcfs_volume_info *grown = realloc(*out, (*n + 1) * sizeof(*grown));
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (!grown || !(name = strdup(name ? name : ""))) {
			if (grown)
				*out = grown;
			r = dcfs_error_set(e, ENOMEM, "out of memory");
			break;
		}
		*out = grown;
		grown[(*n)++] = (dcfs_volume_info){.name = (char *)name,
						   .bytes = (uint64_t)sqlite3_column_int64(st, 1),
						   .in_use = sqlite3_column_int(st, 2) != 0};
	}
	if (r < 0) {
		dcfs_volumes_list_free(*out, *n);
		*out = NULL, *n = 0;
	}
	return r;
}

void dcfs_volumes_list_free(dcfs_volume_info *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
}

int dcfs_volume_table_count(dcfs_store *s, int64_t *n, dcfs_error *e)
{
	int r = dcfs_catalog_int(s->db, "SELECT count(*) FROM volumes", NULL, n, e);
	return r < 0 ? r : 0;
}

int dcfs_volume_table_upsert(dcfs_store *s, const char *name, uint64_t bytes, bool in_use,
			     dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(s->db,
				     "INSERT INTO volumes(name, bytes, in_use, created) VALUES (?1, ?2, ?3, ?4)"
				     " ON CONFLICT(name) DO UPDATE SET bytes = ?2, in_use = ?3",
				     &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)bytes);
	sqlite3_bind_int(st, 3, in_use);
	sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
	return sqlite3_step(st) == SQLITE_DONE ? 0 : dcfs_catalog_error(s->db, e, "recording a volume");
}

int dcfs_volume_table_delete(dcfs_store *s, const char *name, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(s->db, "DELETE FROM volumes WHERE name = ?1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return dcfs_catalog_error(s->db, e, "forgetting a volume");
	return 0;
}

int dcfs_volume_table_figures(dcfs_store *s, dcfs_volume_figures *out, dcfs_error *e)
{
	*out = (dcfs_volume_figures){0};
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(s->db,
				     "SELECT count(*), coalesce(sum(in_use != 0), 0), coalesce(sum(bytes), 0),"
				     " coalesce(sum(CASE WHEN in_use = 0 THEN bytes END), 0) FROM volumes",
				     &st, e);
	if (r < 0 || (r = dcfs_catalog_step(st, e)) <= 0)
		return r;
	*out = (dcfs_volume_figures){.volumes = sqlite3_column_int64(st, 0),
				     .in_use = sqlite3_column_int64(st, 1),
				     .bytes = sqlite3_column_int64(st, 2),
				     .idle_bytes = sqlite3_column_int64(st, 3)};
	return 0;
}

/* The schema of the `volumes` table: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_volume_table_schema[] = {
	{1,
		"CREATE TABLE volumes ("
		"  name TEXT PRIMARY KEY,"
		"  bytes INTEGER NOT NULL DEFAULT 0,"
		"  in_use INTEGER NOT NULL DEFAULT 0,"
		"  created INTEGER NOT NULL"
		");"
		"CREATE TRIGGER volumes_ins AFTER INSERT ON volumes BEGIN"
		"  UPDATE sums SET value = value + CASE name WHEN 'volumes' THEN 1"
		"    WHEN 'volumes_in_use' THEN NEW.in_use != 0 ELSE NEW.bytes END"
		"  WHERE name IN ('volumes','volumes_in_use','volume_bytes');"
		"END;"
		"CREATE TRIGGER volumes_del AFTER DELETE ON volumes BEGIN"
		"  UPDATE sums SET value = value - CASE name WHEN 'volumes' THEN 1"
		"    WHEN 'volumes_in_use' THEN OLD.in_use != 0 ELSE OLD.bytes END"
		"  WHERE name IN ('volumes','volumes_in_use','volume_bytes');"
		"END;"
		"CREATE TRIGGER volumes_upd AFTER UPDATE OF in_use, bytes ON volumes BEGIN"
		"  UPDATE sums SET value = value + CASE name"
		"    WHEN 'volumes_in_use' THEN (NEW.in_use != 0) - (OLD.in_use != 0)"
		"    ELSE NEW.bytes - OLD.bytes END"
		"  WHERE name IN ('volumes_in_use','volume_bytes');"
		"END;"},
	{0, NULL},
};
