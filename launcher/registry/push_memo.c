/* The catalog's memory of pushed layer blobs (see push_memo.h). */
#include "push_memo.h"

#include <stdio.h>
#include <string.h>

#include "pushed_blob_table.h"

static const char *compression_name(dcfs_push_compression c)
{
	return c == DCFS_PUSH_GZIP ? "gzip" : "zstd";
}

int push_memo_find(dcfs_store *s, int64_t layer_id, dcfs_push_compression c, const char *registry,
		   const char *repository, push_memo *out, dcfs_error *e)
{
	*out = (push_memo){0};
	dcfs_pushed_blob b;
	int r = dcfs_pushed_blob_find(s->db, layer_id, compression_name(c), registry, repository, &b,
				      e);
	if (r <= 0)
		return r;
	snprintf(out->digest, sizeof(out->digest), "%s", b.digest);
	snprintf(out->diff_id, sizeof(out->diff_id), "%s", b.diff_id);
	out->size = b.size;
	snprintf(out->from, sizeof(out->from), "%s", b.repository);
	out->here = !strcmp(out->from, repository);
	return 1;
}

int push_memo_add(dcfs_store *s, int64_t layer_id, dcfs_push_compression c, const char *digest,
		  const char *diff_id, uint64_t size, const char *registry, const char *repository,
		  dcfs_error *e)
{
	dcfs_pushed_blob_row row = {.layer_id = layer_id, .compression = compression_name(c),
				    .digest = digest, .diff_id = diff_id, .size = size,
				    .registry = registry, .repository = repository};
	return dcfs_pushed_blob_add(s->db, &row, e);
}
