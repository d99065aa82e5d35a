/* Garbage collection (see gc.h). Rows go first, in one transaction: once it commits, nothing
 * points at the chunks it removed, and unlinking their files can be retried by a later run if
 * this one dies (they are then orphans). */
#include "gc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blob_table.h"
#include "catalog.h"
#include "chunk_table.h"
#include "cleanup.h"
#include "image_list.h"
#include "layer_table.h"
#include "orphans.h"

/* Delete unreferenced rows; *dead receives the hashes of the chunk rows removed. */
static int delete_rows(dcfs_store *s, dcfs_gc_stats *st, dcfs_hash **dead, size_t *ndead,
		       dcfs_error *e)
{
	int64_t before_bytes = dcfs_catalog_sum(s->db, "chunk_stored");
	uint64_t layers = 0;
	int r = dcfs_layer_delete_unreferenced(s->db, &layers, e);
	if (r < 0)
		return r;
	st->layers += layers;
	uint64_t n = 0;
	r = dcfs_blob_table_delete_unreferenced(s->db, &n, e);
	if (r < 0)
		return r;
	st->blobs += n;
	r = dcfs_chunk_table_unreferenced(s->db, dead, ndead, e);
	if (r < 0)
		return r;
	r = dcfs_chunk_table_delete_unreferenced(s->db, &n, e);
	if (r < 0)
		return r;
	st->chunks += n;
	st->chunk_bytes += (uint64_t)(before_bytes - dcfs_catalog_sum(s->db, "chunk_stored"));
	return 0;
}

int dcfs_gc(dcfs_store *s, bool orphans, dcfs_gc_stats *st, dcfs_error *e)
{
	int r = dcfs_catalog_exec(s->db, "BEGIN IMMEDIATE", e);
	if (r < 0)
		return r;
	_cleanup_free_ dcfs_hash *dead = NULL;
	size_t ndead = 0;
	r = delete_rows(s, st, &dead, &ndead, e);
	if (r >= 0)
		r = dcfs_catalog_exec(s->db, "COMMIT", e);
	if (r < 0) {
		dcfs_catalog_rollback(s->db);
		return r;
	}
	for (size_t i = 0; i < ndead; i++) {
		char name[3 + DCFS_HASH_HEX];
		dcfs_store_chunk_name(&dead[i], name);
		if (unlinkat(s->chunks_fd, name, 0) < 0 && errno != ENOENT)
			return dcfs_error_set(e, errno, "cannot remove chunk %s: %m", name + 3);
	}
	return orphans ? dcfs_store_orphans(s, true, &st->orphans, &st->orphan_bytes, e) : 0;
}

int dcfs_gc_max_size(dcfs_store *s, uint64_t max, const dcfs_gc_evict *how, dcfs_gc_stats *st,
		     dcfs_error *e)
{
	int r = dcfs_gc(s, true, st, e);
	if (r < 0 || (uint64_t)dcfs_catalog_sum(s->db, "chunk_stored") <= max)
		return r;
	dcfs_image_info *list = NULL;
	size_t n = 0;
	r = dcfs_image_list_list(s, NULL, &list, &n, e);
	if (r < 0)
		return r;
	/* The list is newest first; evict from the least recently used end. */
	for (size_t i = n; i-- > 0 && r >= 0;) {
		if ((uint64_t)dcfs_catalog_sum(s->db, "chunk_stored") <= max)
			break;
		if (list[i].precious && how->may_evict && !how->may_evict(&list[i], how->u))
			continue;
		dcfs_error busy _cleanup_error_ = {0};
		if (dcfs_image_remove(s, list[i].ref, &busy) < 0)
			continue; /* in use by a mount: keep it */
		if (how->evicted)
			how->evicted(list[i].ref, how->u);
		r = dcfs_gc(s, false, st, e);
	}
	dcfs_image_list_free(list, n);
	return r;
}
