/* Chunks on disk: at most 1 MiB of plain bytes, named by their SHA-256, stored as one zstd frame
 * in STORE/chunks/ab/<sha256>. */
#pragma once

#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>
#include <zstd.h>

#include "error.h"
#include "hash.h"

#define DCFS_CHUNK_MAX (1u << 20)
#define DCFS_CHUNK_LEVEL 3
/* A snapshot is taken while someone waits for it (and a running container is frozen): zstd's
 * level 1 compresses about 1.5 to 2.4 times as fast, for about 5 % more bytes on a Debian
 * tree (doc/performance.md). */
#define DCFS_SNAPSHOT_LEVEL 1

/* Compress `len` bytes at zstd `level` and write them to a new file `name` in `dir_fd` (not
 * synced). `out`/`out_cap` is scratch space of at least ZSTD_compressBound(len) bytes. */
int dcfs_chunk_write(int dir_fd, const char *name, ZSTD_CCtx *cctx, int level, const void *plain,
		     size_t len, void *out, size_t out_cap, size_t *stored, dcfs_error *e);

/* Read chunk `h` from chunks_fd, decompress it into `out` (at least DCFS_CHUNK_MAX bytes) and
 * verify its hash. Returns the plain length, -EIO (with a message) when the hash or the frame is
 * wrong, or another -errno. `stored` (optional) receives the file's size. */
ssize_t dcfs_chunk_read(int chunks_fd, const dcfs_hash *h, ZSTD_DCtx *dctx, void *out,
			uint64_t *stored, dcfs_error *e);
