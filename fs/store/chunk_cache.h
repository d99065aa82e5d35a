/* Decompressed chunks shared by the threads that serve an image: a small LRU cache in front of
 * the chunk files. Every chunk is verified against its hash when it is decompressed; one that
 * does not match is never served: the read fails with EIO and the chunk is reported through
 * the `bad` callback (which quarantines it). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

typedef struct dcfs_chunk_cache dcfs_chunk_cache;

typedef struct dcfs_cached_chunk dcfs_cached_chunk;

dcfs_chunk_cache *dcfs_chunk_cache_new(int chunks_fd, size_t max_chunks,
				       void (*bad)(const dcfs_hash *h, const char *why, void *u), void *u);
void dcfs_chunk_cache_free(dcfs_chunk_cache *c);

/* Get the plain bytes of chunk `h` (pinned until released). Returns 0 or -errno. */
int dcfs_chunk_cache_get(dcfs_chunk_cache *c, const dcfs_hash *h, dcfs_cached_chunk **out,
			 const unsigned char **data, size_t *len);
void dcfs_chunk_cache_release(dcfs_chunk_cache *c, dcfs_cached_chunk *cc);
