/* Reading a stored blob's bytes back from its chunks (see blob_content.h). */
#include "blob_content.h"

#include <stdlib.h>
#include <string.h>

#include "blob_table.h"
#include "chunk.h"
#include "cleanup.h"

int dcfs_blob_content_init(dcfs_blob_content *c, dcfs_store *s, dcfs_error *e)
{
	*c = (dcfs_blob_content){.s = s, .chunk_len = -1, .dctx = ZSTD_createDCtx(),
				 .chunk = malloc(DCFS_CHUNK_MAX)};
	return c->dctx && c->chunk ? 0 : dcfs_error_set(e, ENOMEM, "out of memory");
}

void dcfs_blob_content_free(dcfs_blob_content *c)
{
	ZSTD_freeDCtx(c->dctx);
	free(c->chunk);
	*c = (dcfs_blob_content){.chunk_len = -1};
}

/* The chunk `h` decompressed in c->chunk (read again only when it is another one). */
static int load_chunk(dcfs_blob_content *c, const dcfs_hash *h, dcfs_error *e)
{
	if (c->chunk_len >= 0 && !memcmp(h->b, c->chunk_hash.b, DCFS_HASH_LEN))
		return 0;
	c->chunk_len = dcfs_chunk_read(c->s->chunks_fd, h, c->dctx, c->chunk, NULL, e);
	if (c->chunk_len < 0)
		return (int)c->chunk_len;
	c->chunk_hash = *h;
	return 0;
}

int dcfs_blob_content_read(dcfs_blob_content *c, int64_t blob_id, uint64_t size,
			   dcfs_blob_piece_fn fn, void *opaque, dcfs_error *e)
{
	_cleanup_(dcfs_blob_extents_free) dcfs_blob_extents it = {0};
	int r = dcfs_blob_extents_open(&it, c->s->db, e);
	if (r < 0)
		return r;
	dcfs_blob_extents_start(&it, blob_id);
	uint64_t pos = 0;
	dcfs_blob_extent x;
	while ((r = dcfs_blob_extents_next(&it, &x, e)) > 0) {
		if (!x.hashed)
			return dcfs_error_set(e, EIO, "blob %lld: a chunk has no hash",
					      (long long)blob_id);
		if (x.file_off < pos)
			return dcfs_error_set(e, EIO, "blob %lld: overlapping extents",
					      (long long)blob_id);
		if (x.len > UINT32_MAX || x.file_off + x.len > size)
			return dcfs_error_set(e, EIO, "blob %lld: an extent past its size",
					      (long long)blob_id);
		if ((r = load_chunk(c, &x.chunk, e)) < 0)
			return r;
		if (x.chunk_off + x.len > (uint64_t)c->chunk_len)
			return dcfs_error_set(e, EIO, "blob %lld: extent beyond the end of its chunk",
					      (long long)blob_id);
		if ((r = fn(opaque, x.file_off, c->chunk + x.chunk_off, (uint32_t)x.len, e)) < 0)
			return r;
		pos = x.file_off + x.len;
	}
	return r;
}
