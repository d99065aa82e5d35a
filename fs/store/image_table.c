/* The `images` and `image_layers` tables (see image_table.h): all the SQL that reads or writes
 * them. Sizes come from the layer rows; no file index is read. */
#include "image_table.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "cleanup.h"
#include "grow.h"
#include "schema_internal.h"

void dcfs_image_row_free(dcfs_image_row *row)
{
	free(row->ref), free(row->kind), free(row->digest), free(row->config);
	*row = (dcfs_image_row){0};
}

#define SELECT_IMAGE "SELECT id, ref, kind, digest, config, created, last_used, pulled FROM images"

static int read_image(sqlite3_stmt *st, dcfs_image_row *out, dcfs_error *e)
{
	int r = dcfs_catalog_step(st, e);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	const char *config = (const char *)sqlite3_column_text(st, 4);
	*out = (dcfs_image_row){
		.id = sqlite3_column_int64(st, 0),
		.ref = dcfs_catalog_text(st, 1),
		.kind = dcfs_catalog_text(st, 2),
		.digest = dcfs_catalog_text(st, 3),
		.config = strdup(config ? config : "{}"),
		.created = sqlite3_column_int64(st, 5),
		.last_used = sqlite3_column_int64(st, 6),
		.pulled = sqlite3_column_int(st, 7) != 0,
	};
	if (!out->ref || !out->kind || !out->config ||
	    (!out->digest && sqlite3_column_type(st, 3) != SQLITE_NULL)) {
		dcfs_image_row_free(out);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	return 0;
}

int dcfs_image_lookup(dcfs_store *s, const char *ref, dcfs_image_row *out, dcfs_error *e)
{
	*out = (dcfs_image_row){0};
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(s->db, SELECT_IMAGE " WHERE ref = ?1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	return read_image(st, out, e);
}

int dcfs_image_id(dcfs_store *s, const char *ref, int64_t *id, dcfs_error *e)
{
	_cleanup_(dcfs_image_row_free) dcfs_image_row image = {0};
	int r = dcfs_image_lookup(s, ref, &image, e);
	if (r == -ENOENT)
		return dcfs_error_set(e, ENOENT, "no such image: '%s'", ref);
	if (r < 0)
		return r;
	*id = image.id;
	return 0;
}

int dcfs_image_lookup_id(dcfs_store *s, int64_t id, dcfs_image_row *out, dcfs_error *e)
{
	*out = (dcfs_image_row){0};
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(s->db, SELECT_IMAGE " WHERE id = ?1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	return read_image(st, out, e);
}

/* Run a statement that returns no rows and reset it for the next bindings. */
static int run(sqlite3_stmt *st, dcfs_error *e)
{
	int r = dcfs_catalog_step(st, e);
	sqlite3_reset(st);
	return r < 0 ? r : 0;
}

/* Run `sql` (no rows) with image `ref` as ?1 and `text` as ?2 when it has one: the number of
 * rows it changed. */
static int run_on_ref(sqlite3 *db, const char *sql, const char *ref, const char *text,
		      dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, sql, &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	r = dcfs_catalog_step(st, e);
	return r < 0 ? r : sqlite3_changes(db);
}

int dcfs_image_insert(sqlite3 *db, const char *ref, const char *kind, const char *config_json,
		      const char *digest, int64_t *id, dcfs_error *e)
{
	int r = dcfs_image_delete(db, ref, e);
	if (r < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *ins = NULL;
	r = dcfs_catalog_prepare(db,
				 "INSERT INTO images(ref, kind, digest, config, created, last_used)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
				 &ins, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(ins, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 3, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, config_json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 5, (int64_t)time(NULL));
	r = run(ins, e);
	if (r < 0)
		return r;
	*id = sqlite3_last_insert_rowid(db);
	return 0;
}

int dcfs_image_layers_add(sqlite3 *db, int64_t image_id, const int64_t *layer_ids, size_t n,
			  dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *link = NULL;
	int r = dcfs_catalog_prepare(
		db, "INSERT INTO image_layers(image_id, pos, layer_id) VALUES (?1, ?2, ?3)", &link, e);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		sqlite3_bind_int64(link, 1, image_id);
		sqlite3_bind_int64(link, 2, (int64_t)i);
		sqlite3_bind_int64(link, 3, layer_ids[i]);
		r = run(link, e);
	}
	return r < 0 ? r : 0;
}

int dcfs_image_layers_get(sqlite3 *db, int64_t image_id, size_t extra, int64_t **ids, size_t *n,
			  dcfs_error *e)
{
	*ids = NULL, *n = 0;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		db, "SELECT layer_id FROM image_layers WHERE image_id = ?1 ORDER BY pos", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, image_id);
	_cleanup_free_ int64_t *list = NULL;
	size_t count = 0, cap = 0;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		if (count + extra >= cap) {
			size_t more = cap ? 2 * cap : 16 + extra;
			int64_t *p = realloc(list, more * sizeof(*p));
			if (!p)
				return dcfs_error_set(e, ENOMEM, "out of memory");
			list = p, cap = more;
		}
		list[count++] = sqlite3_column_int64(st, 0);
	}
	if (r < 0)
		return r;
	if (!list && extra && !(list = malloc(extra * sizeof(*list))))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	*ids = TAKE_PTR(list);
	*n = count;
	return 0;
}

int dcfs_image_mark_pulled(sqlite3 *db, const char *ref, dcfs_error *e)
{
	int r = run_on_ref(db, "UPDATE images SET pulled = 1 WHERE ref = ?1", ref, NULL, e);
	return r < 0 ? r : 0;
}

void dcfs_image_touch(sqlite3 *db, int64_t id)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (dcfs_catalog_prepare(db, "UPDATE images SET last_used = ?2 WHERE id = ?1", &st, NULL) < 0)
		return;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
	sqlite3_step(st);
}

int dcfs_image_delete(sqlite3 *db, const char *ref, dcfs_error *e)
{
	int r = run_on_ref(db, "DELETE FROM images WHERE ref = ?1", ref, NULL, e);
	return r < 0 ? r : r > 0;
}

int dcfs_image_make_snapshot(sqlite3 *db, const char *ref, const char *key_label, dcfs_error *e)
{
	int r = run_on_ref(db,
			   "UPDATE images SET kind = 'snapshot' WHERE ref = ?1"
			   " AND json_extract(config, ?2) IS NOT NULL",
			   ref, key_label, e);
	return r < 0 ? r : r > 0;
}

int dcfs_image_config_labelled(sqlite3 *db, int64_t id, const char *const (*labels)[2], size_t n,
			       char **out, dcfs_error *e)
{
	*out = NULL;
	/* json_set(j, '$.created', <now>, ?2, ?3, ?4, ?5, ...) over the config, with a Labels
	 * object added when it has none. */
	_cleanup_free_ char *sql = NULL;
	size_t len = 0;
	_cleanup_fclose_ FILE *f = open_memstream(&sql, &len);
	if (!f)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	fputs("WITH c AS (SELECT CASE json_type(config, '$.config.Labels') WHEN 'object' THEN config"
	      "  ELSE json_set(config, '$.config.Labels', json('{}')) END AS j FROM images WHERE id = ?1)"
	      " SELECT json_set(j, '$.created', strftime('%Y-%m-%dT%H:%M:%SZ', 'now')", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, ", ?%zu, ?%zu", 2 + 2 * i, 3 + 2 * i);
	fputs(") FROM c", f);
	if (fclose(TAKE_PTR(f)) != 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, sql, &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_text(st, (int)(2 + 2 * i), labels[i][0], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, (int)(3 + 2 * i), labels[i][1], -1, SQLITE_STATIC);
	}
	r = dcfs_catalog_step(st, e);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	const char *text = (const char *)sqlite3_column_text(st, 0);
	*out = strdup(text ? text : "{}");
	return *out ? 0 : dcfs_error_set(e, ENOMEM, "out of memory");
}

static char *column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return strdup(t ? (const char *)t : "");
}

int dcfs_image_table_list(dcfs_store *s, const char *kind, dcfs_image_info **out, size_t *n,
			  dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		s->db,
		"SELECT i.id, i.ref, i.kind, i.digest, i.created, i.last_used, count(il.layer_id),"
		" coalesce(sum(l.size), 0),"
		" coalesce(sum(CASE WHEN l.refs > 1 THEN l.size ELSE 0 END), 0),"
		" CASE WHEN i.kind = 'image' THEN i.pulled = 0 ELSE coalesce((SELECT sn.origin"
		"  FROM snapshots sn WHERE sn.image_id = i.id), 'snapshot') != 'prebuild' END"
		" FROM images i LEFT JOIN image_layers il ON il.image_id = i.id"
		" LEFT JOIN layers l ON l.id = il.layer_id"
		" WHERE ?1 IS NULL OR i.kind = ?1"
		" GROUP BY i.id ORDER BY i.last_used DESC, i.id DESC",
		&st, e);
	if (r < 0)
		return r;
	if (kind)
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	dcfs_image_info *list = NULL;
	size_t count = 0, cap = 0;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		if (DCFS_GROW(list, cap, count, 16) < 0) {
			dcfs_image_list_free(list, count);
			return dcfs_error_set(e, ENOMEM, "out of memory");
		}
		dcfs_image_info *im = &list[count++];
		*im = (dcfs_image_info){
			.id = sqlite3_column_int64(st, 0),
			.ref = column_dup(st, 1),
			.kind = column_dup(st, 2),
			.digest = column_dup(st, 3),
			.created = sqlite3_column_int64(st, 4),
			.last_used = sqlite3_column_int64(st, 5),
			.layers = sqlite3_column_int(st, 6),
			.size = (uint64_t)sqlite3_column_int64(st, 7),
			.shared = (uint64_t)sqlite3_column_int64(st, 8),
			.precious = sqlite3_column_int(st, 9) != 0,
		};
		im->unique = im->size - im->shared;
	}
	if (r < 0) {
		dcfs_image_list_free(list, count);
		return r;
	}
	*out = list;
	*n = count;
	return 0;
}

int dcfs_image_each_config(dcfs_store *s, int (*fn)(const char *config, size_t len, void *u),
			   void *u, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(s->db, "SELECT DISTINCT config FROM images", &st, e);
	if (r < 0)
		return r;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		const void *text = sqlite3_column_blob(st, 0);
		r = fn(text ? text : "", (size_t)sqlite3_column_bytes(st, 0), u);
		if (r != 0)
			return r;
	}
	return r;
}

static const char drop_dangling_sql[] =
	"DELETE FROM image_layers WHERE image_id NOT IN (SELECT id FROM images)"
	" OR layer_id NOT IN (SELECT id FROM layers);";

int dcfs_image_layers_drop_dangling(sqlite3 *db, dcfs_error *e)
{
	return dcfs_catalog_exec(db, drop_dangling_sql, e);
}

/* The schema of the `images` and `image_layers` tables: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_image_table_schema[] = {
	{1,
		/* Images and snapshots: ordered layer lists with an OCI image config. */
		"CREATE TABLE images ("
		"  id INTEGER PRIMARY KEY,"
		"  ref TEXT NOT NULL UNIQUE,"
		"  kind TEXT NOT NULL DEFAULT 'image' CHECK (kind IN ('image','snapshot')),"
		"  digest TEXT NOT NULL,"
		"  config TEXT NOT NULL DEFAULT '{}',"
		"  created INTEGER NOT NULL,"
		"  last_used INTEGER NOT NULL"
		");"
		"CREATE TABLE image_layers ("
		"  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
		"  pos INTEGER NOT NULL,"
		"  layer_id INTEGER NOT NULL REFERENCES layers(id),"
		"  PRIMARY KEY (image_id, pos)"
		") WITHOUT ROWID;"
		"CREATE INDEX image_layers_layer ON image_layers(layer_id);"
		/* image_layers -> layer references; images -> sums */
		"CREATE TRIGGER image_layers_ins AFTER INSERT ON image_layers BEGIN"
		"  UPDATE layers SET refs = refs + 1 WHERE id = NEW.layer_id;"
		"  UPDATE sums SET value = value + coalesce((SELECT size FROM layers WHERE id = NEW.layer_id), 0)"
		"  WHERE name = 'image_bytes';"
		"END;"
		"CREATE TRIGGER image_layers_del AFTER DELETE ON image_layers BEGIN"
		"  UPDATE layers SET refs = refs - 1 WHERE id = OLD.layer_id;"
		"  UPDATE sums SET value = value - coalesce((SELECT size FROM layers WHERE id = OLD.layer_id), 0)"
		"  WHERE name = 'image_bytes';"
		"END;"
		"CREATE TRIGGER images_ins AFTER INSERT ON images BEGIN"
		"  UPDATE sums SET value = value + 1"
		"  WHERE name = CASE NEW.kind WHEN 'image' THEN 'images' ELSE 'snapshots' END;"
		"END;"
		"CREATE TRIGGER images_del AFTER DELETE ON images BEGIN"
		"  UPDATE sums SET value = value - 1"
		"  WHERE name = CASE OLD.kind WHEN 'image' THEN 'images' ELSE 'snapshots' END;"
		"END;"},
	{4,
		/* whether an image came from a registry (a pull can give it back: `rebuild --full`); before
		 * version 4, an image whose layers all came from registry blobs was pulled */
		"ALTER TABLE images ADD COLUMN pulled INTEGER NOT NULL DEFAULT 0;"
		"UPDATE images SET pulled = 1 WHERE kind = 'image' AND NOT EXISTS (SELECT 1 FROM"
		"  image_layers il JOIN layers l ON l.id = il.layer_id WHERE il.image_id = images.id"
		"  AND l.source NOT LIKE 'blob:%');"
		/* a pulled image that turns out to be a snapshot (snapshot.c) changes kind */
		"CREATE TRIGGER images_kind AFTER UPDATE OF kind ON images WHEN NEW.kind != OLD.kind BEGIN"
		"  UPDATE sums SET value = value + CASE name"
		"    WHEN CASE NEW.kind WHEN 'image' THEN 'images' ELSE 'snapshots' END THEN 1 ELSE -1 END"
		"  WHERE name IN ('images','snapshots');"
		"END;"},
	{0, NULL},
};
