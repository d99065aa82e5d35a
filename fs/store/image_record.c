/* Recording a multi-layer image (see image_record.h): the image row, its image_layers in order
 * and its merged index in one transaction. */
#include "image_record.h"

#include <string.h>
#include <time.h>

#include "catalog.h"
#include "cleanup.h"
#include "hash.h"
#include "layer_table.h"
#include "merged_index.h"

static int step(sqlite3_stmt *st, dcfs_error *e)
{
	int r = dcfs_catalog_step(st, e);
	sqlite3_reset(st);
	return r < 0 ? r : 0;
}

static int insert_image(sqlite3 *db, const char *ref, const char *kind, const char *config,
			const char *digest, int64_t *id, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *del = NULL, *ins = NULL;
	int r = dcfs_catalog_prepare(db, "DELETE FROM images WHERE ref = ?1", &del, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(del, 1, ref, -1, SQLITE_STATIC);
	r = step(del, e);
	if (r < 0)
		return r;
	r = dcfs_catalog_prepare(db,
				 "INSERT INTO images(ref, kind, digest, config, created, last_used)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
				 &ins, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(ins, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 3, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, config, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 5, (int64_t)time(NULL));
	r = step(ins, e);
	if (r < 0)
		return r;
	*id = sqlite3_last_insert_rowid(db);
	return 0;
}

static int insert_layers(sqlite3 *db, int64_t image_id, const int64_t *layer_ids, size_t n,
			 dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *link = NULL;
	int r = dcfs_catalog_prepare(
		db, "INSERT INTO image_layers(image_id, pos, layer_id) VALUES (?1, ?2, ?3)", &link, e);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		sqlite3_bind_int64(link, 1, image_id);
		sqlite3_bind_int64(link, 2, (int64_t)i);
		sqlite3_bind_int64(link, 3, layer_ids[i]);
		r = step(link, e);
	}
	return r;
}

int dcfs_image_record_in(sqlite3 *db, const char *ref, const char *kind, const char *config_json,
			 const char *digest, const int64_t *layer_ids, size_t n, dcfs_error *e)
{
	int64_t image_id = 0;
	int r = insert_image(db, ref, kind, config_json, digest, &image_id, e);
	if (r >= 0)
		r = insert_layers(db, image_id, layer_ids, n, e);
	if (r >= 0)
		r = dcfs_merged_index_build(db, image_id, e);
	if (r >= 0)
		r = dcfs_catalog_check_sums(db, e); /* the image's bytes are added to image_bytes */
	return r < 0 ? r : 0;
}

static int mark_pulled(sqlite3 *db, const char *ref, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, "UPDATE images SET pulled = 1 WHERE ref = ?1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	return step(st, e);
}

int dcfs_image_record(dcfs_store *s, const char *ref, const char *config_json,
		      const int64_t *layer_ids, size_t n, dcfs_error *e)
{
	sqlite3 *db = s->db;
	int r = dcfs_catalog_exec(db, "BEGIN IMMEDIATE", e);
	if (r < 0)
		return r;
	char digest[8 + DCFS_HASH_HEX];
	dcfs_image_digest(config_json, digest);
	r = dcfs_image_record_in(db, ref, "image", config_json, digest, layer_ids, n, e);
	if (r >= 0)
		r = mark_pulled(db, ref, e);
	if (r >= 0)
		r = dcfs_catalog_exec(db, "COMMIT", e);
	if (r < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

void dcfs_image_digest(const char *config_json, char out[8 + DCFS_HASH_HEX])
{
	dcfs_hash h;
	dcfs_hash_buf(config_json, strlen(config_json), &h);
	memcpy(out, "sha256:", 7);
	dcfs_hash_to_hex(&h, out + 7);
}

int dcfs_image_find_layer(dcfs_store *s, const char *source, int64_t *layer_id, dcfs_error *e)
{
	return dcfs_layer_find_by_source(s->db, source, layer_id, e);
}
