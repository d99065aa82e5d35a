/* The catalog's `feature_layers` table (see feature_table.h). */
#include "feature_table.h"

#include <stdlib.h>

#include "catalog.h"
#include "cleanup.h"
#include "grow.h"
#include "schema_internal.h"

int dcfs_feature_layer_find(sqlite3 *db, const char *key, int64_t *image_id,
                            dcfs_error *e) {
  *image_id = 0;
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  int r = dcfs_catalog_prepare(
      db, "SELECT image_id FROM feature_layers WHERE key = ?1", &st, e);
  if (r < 0)
    return r;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  if ((r = dcfs_catalog_step(st, e)) <= 0)
    return r < 0 ? dcfs_error_wrap(e, "reading feature layers") : 0;
  *image_id = sqlite3_column_int64(st, 0);
  return 1;
}

int dcfs_feature_layer_record(sqlite3 *db, int64_t image_id,
                              const dcfs_feature_layer_meta *m, dcfs_error *e) {
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  int r = dcfs_catalog_prepare(
      db,
      "INSERT OR REPLACE INTO feature_layers(key, image_id, feature_id,"
      " version, source, digest, options, config_file, created)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, strftime('%s','now'))",
      &st, e);
  if (r < 0)
    return r;
  const char *text[] = {m->key,    NULL,      m->feature_id, m->version,
                        m->source, m->digest, m->options,    m->config_file};
  for (int i = 0; i < 8; i++)
    sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, image_id);
  if ((r = dcfs_catalog_step(st, e)) < 0)
    return dcfs_error_wrap(e, "recording a feature layer");
  return 0;
}

static int read_row(sqlite3_stmt *st, dcfs_feature_layer_info *f) {
  *f = (dcfs_feature_layer_info){
      .key = dcfs_catalog_text(st, 0),
      .ref = dcfs_catalog_text(st, 1),
      .feature_id = dcfs_catalog_text(st, 2),
      .version = dcfs_catalog_text(st, 3),
      .source = dcfs_catalog_text(st, 4),
      .options = dcfs_catalog_text(st, 5),
      .config_file = dcfs_catalog_text(st, 6),
      .image_id = sqlite3_column_int64(st, 7),
      .created = sqlite3_column_int64(st, 8),
      .size = (uint64_t)sqlite3_column_int64(st, 9),
      .containers = dcfs_catalog_text(st, 10),
  };
  return f->key && f->ref && f->feature_id && f->version && f->source &&
                 f->options && f->config_file
             ? 0
             : -ENOMEM;
}

/* The feature's own layer is its image's top one; a container holds it when its
 * image's layers do. */
#define LIST_SQL                                                               \
  "WITH top AS (SELECT f.key, il.layer_id FROM feature_layers f"               \
  "  JOIN image_layers il ON il.image_id = f.image_id"                         \
  "  WHERE il.pos = (SELECT max(pos) FROM image_layers WHERE image_id = "      \
  "f.image_id))"                                                               \
  " SELECT f.key, i.ref, f.feature_id, f.version, f.source, f.options, "       \
  "f.config_file,"                                                             \
  "  f.image_id, f.created, l.size,"                                           \
  "  (SELECT group_concat(name, ', ') FROM (SELECT DISTINCT c.name FROM "      \
  "containers c"                                                               \
  "    JOIN image_layers cl ON cl.image_id = c.image_id"                       \
  "    WHERE cl.layer_id = t.layer_id ORDER BY c.name))"                       \
  " FROM feature_layers f JOIN images i ON i.id = f.image_id"                  \
  " JOIN top t ON t.key = f.key JOIN layers l ON l.id = t.layer_id"            \
  " ORDER BY f.config_file, f.created, f.image_id"

int dcfs_feature_layer_list(dcfs_store *s, dcfs_feature_layer_info **out,
                            size_t *n, dcfs_error *e) {
  *out = NULL, *n = 0;
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  int r = dcfs_catalog_prepare(s->db, LIST_SQL, &st, e);
  if (r < 0)
    return r;
  dcfs_feature_layer_info *list = NULL;
  size_t count = 0, cap = 0;
  while ((r = dcfs_catalog_step(st, e)) > 0) {
    if (DCFS_GROW(list, cap, count, 8) < 0 ||
        read_row(st, &list[count++]) < 0) {
      dcfs_feature_layer_list_free(list, count);
      return dcfs_error_set(e, ENOMEM, "out of memory");
    }
  }
  if (r < 0) {
    dcfs_feature_layer_list_free(list, count);
    return dcfs_error_wrap(e, "reading feature layers");
  }
  *out = list, *n = count;
  return 0;
}

void dcfs_feature_layer_list_free(dcfs_feature_layer_info *list, size_t n) {
  for (size_t i = 0; i < n; i++) {
    dcfs_feature_layer_info *f = &list[i];
    free(f->key), free(f->ref), free(f->feature_id), free(f->version),
        free(f->source);
    free(f->options), free(f->config_file), free(f->containers);
  }
  free(list);
}

int dcfs_feature_layer_is_image(sqlite3 *db, int64_t image_id, dcfs_error *e) {
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  int r = dcfs_catalog_prepare(
      db, "SELECT 1 FROM feature_layers WHERE image_id = ?1 LIMIT 1", &st, e);
  if (r < 0)
    return r;
  sqlite3_bind_int64(st, 1, image_id);
  r = dcfs_catalog_step(st, e);
  return r < 0 ? dcfs_error_wrap(e, "reading feature layers") : r;
}

/* The schema of the `feature_layers` table: a step per catalog version, run by
 * catalog_schema.c. */
const dcfs_schema_step dcfs_feature_table_schema[] = {
    /* v10: the images Dev Container Features made, found by feature key. */
    {10, "CREATE TABLE feature_layers ("
         "  key TEXT PRIMARY KEY,"
         "  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
         "  feature_id TEXT NOT NULL,"
         "  version TEXT NOT NULL,"
         "  source TEXT NOT NULL,"
         "  digest TEXT NOT NULL,"
         "  options TEXT NOT NULL,"
         "  config_file TEXT NOT NULL,"
         "  created INTEGER NOT NULL"
         ");"
         "CREATE INDEX feature_layers_image ON feature_layers(image_id);"},
    {0, NULL},
};
