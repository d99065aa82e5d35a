/* Reading a stored blob's bytes back from its chunks (see blob_content.h). */
#include "blob_content.h"

#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "chunk.h"
#include "cleanup.h"

int dcfs_blob_extents_prepare(sqlite3 *db, sqlite3_stmt **st, dcfs_error *e)
{
	return dcfs_catalog_prepare(db,
				    "SELECT x.file_off, x.chunk_off, x.len, c.hash FROM extents x"
				    " JOIN chunks c ON c.id = x.chunk_id WHERE x.blob_id = ?1"
				    " ORDER BY x.file_off",
				    st, e);
}

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

/* The chunk `hash` decompressed in c->chunk (read again only when it is another one). */
static int load_chunk(dcfs_blob_content *c, const void *hash, dcfs_error *e)
{
	dcfs_hash h;
	memcpy(h.b, hash, DCFS_HASH_LEN);
	if (c->chunk_len >= 0 && !memcmp(h.b, c->chunk_hash.b, DCFS_HASH_LEN))
		return 0;
	c->chunk_len = dcfs_chunk_read(c->s->chunks_fd, &h, c->dctx, c->chunk, NULL, e);
	if (c->chunk_len < 0)
		return (int)c->chunk_len;
	c->chunk_hash = h;
	return 0;
}

int dcfs_blob_content_read(dcfs_blob_content *c, int64_t blob_id, uint64_t size,
			   dcfs_blob_piece_fn fn, void *opaque, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_blob_extents_prepare(c->s->db, &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, blob_id);
	uint64_t pos = 0;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		uint64_t off = (uint64_t)sqlite3_column_int64(st, 0);
		uint64_t coff = (uint64_t)sqlite3_column_int64(st, 1);
		uint64_t len = (uint64_t)sqlite3_column_int64(st, 2);
		if (sqlite3_column_bytes(st, 3) != DCFS_HASH_LEN)
			return dcfs_error_set(e, EIO, "blob %lld: a chunk has no hash",
					      (long long)blob_id);
		if (off < pos)
			return dcfs_error_set(e, EIO, "blob %lld: overlapping extents",
					      (long long)blob_id);
		if (len > UINT32_MAX || off + len > size)
			return dcfs_error_set(e, EIO, "blob %lld: an extent past its size",
					      (long long)blob_id);
		if ((r = load_chunk(c, sqlite3_column_blob(st, 3), e)) < 0)
			return r;
		if (coff + len > (uint64_t)c->chunk_len)
			return dcfs_error_set(e, EIO, "blob %lld: extent beyond the end of its chunk",
					      (long long)blob_id);
		if ((r = fn(opaque, off, c->chunk + coff, (uint32_t)len, e)) < 0)
			return r;
		pos = off + len;
	}
	return r;
}
