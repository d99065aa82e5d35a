/* SHA-256 digests: the names of chunks, blobs, layers and images. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define DCFS_HASH_LEN 32
#define DCFS_HASH_HEX 65 /* 64 hex digits and a NUL */

typedef struct dcfs_hash {
	unsigned char b[DCFS_HASH_LEN];
} dcfs_hash;

/* A running digest. dcfs_hasher_init() cannot fail on a working libcrypto; it aborts otherwise. */
typedef struct dcfs_hasher {
	void *ctx; /* EVP_MD_CTX */
} dcfs_hasher;

void dcfs_hasher_init(dcfs_hasher *h);
void dcfs_hasher_update(dcfs_hasher *h, const void *buf, size_t len);
/* Write the digest and reset the hasher for reuse. */
void dcfs_hasher_final(dcfs_hasher *h, dcfs_hash *out);
void dcfs_hasher_free(dcfs_hasher *h);

void dcfs_hash_buf(const void *buf, size_t len, dcfs_hash *out);
void dcfs_hash_to_hex(const dcfs_hash *h, char out[DCFS_HASH_HEX]);
/* Parse 64 hex digits; returns false on anything else. */
bool dcfs_hash_from_hex(const char *hex, dcfs_hash *out);
