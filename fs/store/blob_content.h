/* A stored blob's bytes, read back from its chunks: the extents in file order, each chunk
 * decompressed once while consecutive extents share it (small files share chunks). For the
 * code that copies a blob out of the store (a workspace layer into a checkout, a layer into a
 * registry's tar); the mounted views read through the chunk cache instead. */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <zstd.h>

#include "error.h"
#include "hash.h"
#include "store.h"

typedef struct dcfs_blob_content {
	dcfs_store *s;
	ZSTD_DCtx *dctx;
	unsigned char *chunk; /* the last chunk read, DCFS_CHUNK_MAX bytes */
	dcfs_hash chunk_hash;
	ssize_t chunk_len; /* -1: none */
} dcfs_blob_content;

int dcfs_blob_content_init(dcfs_blob_content *c, dcfs_store *s, dcfs_error *e);
void dcfs_blob_content_free(dcfs_blob_content *c);

/* One piece of a blob: `len` bytes at file offset `off`. Bytes between pieces (and after the
 * last, up to the blob's size) are holes: zeros. */
typedef int (*dcfs_blob_piece_fn)(void *opaque, uint64_t off, const void *data, uint32_t len,
				  dcfs_error *e);

/* Call `fn` for each piece of blob `blob_id` (of `size` bytes) in file order. Overlapping
 * extents, one past `size` or past the end of its chunk fail with -EIO naming the blob. */
int dcfs_blob_content_read(dcfs_blob_content *c, int64_t blob_id, uint64_t size,
			   dcfs_blob_piece_fn fn, void *opaque, dcfs_error *e);
