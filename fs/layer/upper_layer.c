/* An upper directory as a layer over an image (see upper_layer.h). */
#include "upper_layer.h"

#include <stdio.h>
#include <stdlib.h>

#include "chunk.h"
#include "cleanup.h"
#include "image_table.h"
#include "import.h"

int dcfs_upper_ingest(dcfs_store *s, const char *upper, const char *what,
                      const char *ref, int64_t *layer_id,
                      dcfs_layer_writer_stats *stats, dcfs_error *e) {
  _cleanup_ingest_ dcfs_layer_writer *in = NULL;
  int r = dcfs_layer_writer_new(s, "file", &in, e);
  if (r < 0)
    return r;
  dcfs_layer_writer_set_level(in, DCFS_SNAPSHOT_LEVEL);
  if ((r = dcfs_import_read_upper(in, upper, e)) < 0)
    return r;
  _cleanup_free_ char *source = NULL;
  if (asprintf(&source, "%s:%s", what, ref) < 0)
    return dcfs_error_set(e, ENOMEM, "out of memory");
  const dcfs_layer_writer_stats *st = NULL;
  if ((r = dcfs_layer_writer_commit_layer(in, source, layer_id, &st, e)) < 0)
    return r;
  if (stats) {
    stats->entries += st->entries, stats->files += st->files;
    stats->file_bytes += st->file_bytes, stats->new_chunks += st->new_chunks;
    stats->new_plain_bytes += st->new_plain_bytes;
    stats->new_stored_bytes += st->new_stored_bytes,
        stats->dedup_bytes += st->dedup_bytes;
  }
  return 0;
}

int dcfs_upper_layer_list(sqlite3 *db, int64_t base_id, int64_t top,
                          int64_t **out, size_t *n, dcfs_error *e) {
  int r = dcfs_image_layers_get(db, base_id, 1, out, n, e);
  if (r < 0)
    return dcfs_error_wrap(e, "reading the base image's layers");
  (*out)[(*n)++] = top;
  return 0;
}
