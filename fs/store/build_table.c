/* The catalog's `builds` table (see build_table.h). */
#include "build_table.h"

#include <stdlib.h>

#include "catalog.h"
#include "cleanup.h"
#include "schema_internal.h"

int dcfs_build_find(sqlite3 *db, const char *key, int64_t *image_id, dcfs_error *e)
{
	*image_id = 0;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, "SELECT image_id FROM builds WHERE key = ?1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if ((r = dcfs_catalog_step(st, e)) <= 0)
		return r < 0 ? dcfs_error_wrap(e, "reading builds") : 0;
	*image_id = sqlite3_column_int64(st, 0);
	return 1;
}

int dcfs_build_record(sqlite3 *db, const char *key, int64_t image_id, const char *config_file,
		      const char *builder, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db,
				     "INSERT OR REPLACE INTO builds(key, image_id, config_file, builder,"
				     " created) VALUES (?1, ?2, ?3, ?4, strftime('%s','now'))",
				     &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, image_id);
	sqlite3_bind_text(st, 3, config_file, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, builder, -1, SQLITE_STATIC);
	if ((r = dcfs_catalog_step(st, e)) < 0)
		return dcfs_error_wrap(e, "recording a build");
	return 0;
}

static int read_row(sqlite3_stmt *st, dcfs_build_info *b)
{
	*b = (dcfs_build_info){
		.key = dcfs_catalog_text(st, 0),
		.ref = dcfs_catalog_text(st, 1),
		.config_file = dcfs_catalog_text(st, 2),
		.builder = dcfs_catalog_text(st, 3),
		.image_id = sqlite3_column_int64(st, 4),
		.created = sqlite3_column_int64(st, 5),
		.used_by = dcfs_catalog_text(st, 6),
	};
	return b->key && b->ref && b->config_file && b->builder ? 0 : -ENOMEM;
}

int dcfs_build_list(dcfs_store *s, dcfs_build_info **out, size_t *n, dcfs_error *e)
{
	*out = NULL, *n = 0;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		s->db,
		"SELECT b.key, i.ref, b.config_file, b.builder, b.image_id, b.created,"
		"  (SELECT c.name FROM containers c WHERE c.image_id = b.image_id ORDER BY c.name"
		"   LIMIT 1)"
		" FROM builds b JOIN images i ON i.id = b.image_id"
		" ORDER BY b.config_file, b.created DESC, b.image_id DESC",
		&st, e);
	if (r < 0)
		return r;
	dcfs_build_info *list = NULL;
	size_t count = 0, cap = 0;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		if (count == cap) {
			cap = cap ? 2 * cap : 8;
			dcfs_build_info *more = realloc(list, cap * sizeof(*more));
			if (!more)
				break;
			list = more;
		}
		if (read_row(st, &list[count++]) < 0)
			break;
	}
	if (r > 0) {
		dcfs_build_list_free(list, count);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	if (r < 0) {
		dcfs_build_list_free(list, count);
		return dcfs_error_wrap(e, "reading builds");
	}
	*out = list, *n = count;
	return 0;
}

void dcfs_build_list_free(dcfs_build_info *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].key), free(list[i].ref), free(list[i].config_file);
		free(list[i].builder), free(list[i].used_by);
	}
	free(list);
}

int dcfs_build_refs_of_config(sqlite3 *db, const char *config_file, int64_t keep, char ***refs,
			      size_t *n, dcfs_error *e)
{
	*refs = NULL, *n = 0;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db,
				     "SELECT i.ref FROM builds b JOIN images i ON i.id = b.image_id"
				     " WHERE b.config_file = ?1 AND b.image_id != ?2 ORDER BY i.ref",
				     &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, config_file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, keep);
	char **list = NULL;
	size_t count = 0;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		char **more = realloc(list, (count + 1) * sizeof(*more));
		char *ref = dcfs_catalog_text(st, 0);
		if (!more || !ref) {
			free(ref);
			list = more ? more : list;
			r = dcfs_error_set(e, ENOMEM, "out of memory");
			break;
		}
		list = more;
		list[count++] = ref;
	}
	if (r < 0) {
		for (size_t i = 0; i < count; i++)
			free(list[i]);
		free(list);
		return r;
	}
	*refs = list, *n = count;
	return 0;
}

int dcfs_build_is_image(sqlite3 *db, int64_t image_id, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, "SELECT 1 FROM builds WHERE image_id = ?1 LIMIT 1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, image_id);
	r = dcfs_catalog_step(st, e);
	return r < 0 ? dcfs_error_wrap(e, "reading builds") : r;
}

/* The schema of the `builds` table: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_build_table_schema[] = {
	/* v8: images built from Dockerfiles, found by build key. */
	{8,
		"CREATE TABLE builds ("
		"  key TEXT PRIMARY KEY,"
		"  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
		"  config_file TEXT NOT NULL,"
		"  builder TEXT NOT NULL,"
		"  created INTEGER NOT NULL"
		");"
		"CREATE INDEX builds_image ON builds(image_id);"},
	{0, NULL},
};
