/* Recording a multi-layer image (see image_record.h): the image row, its image_layers in order
 * and its merged index in one transaction. */
#include "image_record.h"

#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "hash.h"
#include "image_table.h"
#include "layer_table.h"
#include "merged_index.h"

int dcfs_image_record_in(sqlite3 *db, const char *ref, const char *kind, const char *config_json,
			 const char *digest, const int64_t *layer_ids, size_t n, dcfs_error *e)
{
	int64_t image_id = 0;
	int r = dcfs_image_insert(db, ref, kind, config_json, digest, &image_id, e);
	if (r >= 0)
		r = dcfs_image_layers_add(db, image_id, layer_ids, n, e);
	if (r >= 0)
		r = dcfs_merged_index_build(db, image_id, e);
	if (r >= 0)
		r = dcfs_catalog_check_sums(db, e); /* the image's bytes are added to image_bytes */
	return r < 0 ? r : 0;
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
		r = dcfs_image_mark_pulled(db, ref, e);
	if (r >= 0)
		r = dcfs_catalog_exec(db, "COMMIT", e);
	if (r < 0)
		dcfs_catalog_rollback(db);
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
