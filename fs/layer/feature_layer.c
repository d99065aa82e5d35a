/* A feature's install as a layer and an image (see feature_layer.h). */
#include "feature_layer.h"

#include <stdlib.h>

#include "catalog.h"
#include "cleanup.h"
#include "hash.h"
#include "image_record.h"
#include "image_table.h"
#include "upper_layer.h"

static int record(dcfs_store *s, int64_t base_id, int64_t layer_id,
                  const char *ref, const char *config,
                  const dcfs_feature_layer_meta *m, int64_t *image_id,
                  dcfs_error *e) {
  sqlite3 *db = s->db;
  int r = dcfs_catalog_exec(db, "BEGIN IMMEDIATE", e);
  if (r < 0)
    return r;
  _cleanup_free_ int64_t *layers = NULL;
  size_t n = 0;
  char digest[8 + DCFS_HASH_HEX];
  dcfs_image_digest(config, digest);
  r = dcfs_upper_layer_list(db, base_id, layer_id, &layers, &n, e);
  r = r ?: dcfs_image_record_in(db, ref, "image", config, digest, layers, n, e);
  r = r ?: dcfs_image_id(s, ref, image_id, e);
  r = r ?: dcfs_feature_layer_record(db, *image_id, m, e);
  r = r ?: dcfs_catalog_exec(db, "COMMIT", e);
  if (r < 0)
    dcfs_catalog_rollback(db);
  return r;
}

int dcfs_feature_layer_take(dcfs_store *s, const char *upper, int64_t base_id,
                            const char *ref, const char *config_json,
                            const dcfs_feature_layer_meta *m, int64_t *image_id,
                            dcfs_layer_writer_stats *stats, dcfs_error *e) {
  if (stats)
    *stats = (dcfs_layer_writer_stats){0};
  int64_t layer_id = 0;
  int r = dcfs_upper_ingest(s, upper, "feature", ref, &layer_id, stats, e);
  return r ?: record(s, base_id, layer_id, ref, config_json, m, image_id, e);
}
