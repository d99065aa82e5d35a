/* Shared by build_key.c and build_key_walk.c: the unambiguous encoding of the key's parts and
 * the walk of the build context. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "dockerignore.h"
#include "error.h"
#include "hash.h"

/* A length-prefixed field: its length as 8 little-endian bytes, then its bytes. */
void dcfs_build_key_put(dcfs_hasher *h, const void *buf, size_t len);
void dcfs_build_key_put_str(dcfs_hasher *h, const char *s);
/* A number as 8 little-endian bytes. */
void dcfs_build_key_put_u64(dcfs_hasher *h, uint64_t v);

/* Hash every entry of `context` the builder sees (`ignore` respected), in sorted order: for
 * each, a 1, then its path, type, mode bits, owner, size, symlink target, device number and the
 * SHA-256 of a regular file's bytes; a 0 at the end. Errors name the entry. */
int dcfs_build_key_walk(dcfs_hasher *h, const char *context, const dcfs_dockerignore *ignore,
			dcfs_error *e);
