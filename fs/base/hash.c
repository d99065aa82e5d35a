/* SHA-256 through OpenSSL's EVP interface (it uses the CPU's SHA extensions where present). */
#include "hash.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const EVP_MD *sha256_md(void)
{
	static const EVP_MD *md;
	if (!md)
		md = EVP_sha256();
	return md;
}

void dcfs_hasher_init(dcfs_hasher *h)
{
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, sha256_md(), NULL))
		abort();
}

void dcfs_hasher_update(dcfs_hasher *h, const void *buf, size_t len)
{
	if (len && !EVP_DigestUpdate(h->ctx, buf, len))
		abort();
}

void dcfs_hasher_final(dcfs_hasher *h, dcfs_hash *out)
{
	unsigned int n = 0;
	if (!EVP_DigestFinal_ex(h->ctx, out->b, &n) || n != DCFS_HASH_LEN)
		abort();
	if (!EVP_DigestInit_ex(h->ctx, sha256_md(), NULL))
		abort();
}

void dcfs_hasher_free(dcfs_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void dcfs_hash_buf(const void *buf, size_t len, dcfs_hash *out)
{
	unsigned int n = 0;
	if (!EVP_Digest(buf, len, out->b, &n, sha256_md(), NULL) || n != DCFS_HASH_LEN)
		abort();
}

void dcfs_hash_to_hex(const dcfs_hash *h, char out[DCFS_HASH_HEX])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < DCFS_HASH_LEN; i++) {
		out[2 * i] = digits[h->b[i] >> 4];
		out[2 * i + 1] = digits[h->b[i] & 15];
	}
	out[2 * DCFS_HASH_LEN] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool dcfs_hash_from_hex(const char *hex, dcfs_hash *out)
{
	if (!hex || strlen(hex) != 2 * DCFS_HASH_LEN)
		return false;
	for (size_t i = 0; i < DCFS_HASH_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out->b[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}
