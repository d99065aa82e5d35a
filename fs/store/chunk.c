/* Writing and reading single chunk files (see chunk.h). */
#include "chunk.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "store.h"

int dcfs_chunk_write(int dir_fd, const char *name, ZSTD_CCtx *cctx, int level, const void *plain,
		     size_t len, void *out, size_t out_cap, size_t *stored, dcfs_error *e)
{
	size_t n = ZSTD_compressCCtx(cctx, out, out_cap, plain, len, level);
	if (ZSTD_isError(n))
		return dcfs_error_set(e, EIO, "zstd: %s", ZSTD_getErrorName(n));
	_cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return dcfs_error_set(e, errno, "cannot create chunk file '%s': %m", name);
	int r = dcfs_write_all(fd, out, n);
	if (r < 0)
		return dcfs_error_set(e, r, "cannot write chunk file '%s': %s", name, strerror(-r));
	*stored = n;
	return 0;
}

ssize_t dcfs_chunk_read(int chunks_fd, const dcfs_hash *h, ZSTD_DCtx *dctx, void *out,
			uint64_t *stored, dcfs_error *e)
{
	char name[3 + DCFS_HASH_HEX];
	dcfs_store_chunk_name(h, name);
	_cleanup_close_ int fd = openat(chunks_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dcfs_error_set(e, errno, "chunk %s: %m", name + 3);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return dcfs_error_set(e, errno, "chunk %s: %m", name + 3);
	if (stored)
		*stored = (uint64_t)st.st_size;
	if (st.st_size <= 0 || (size_t)st.st_size > ZSTD_compressBound(DCFS_CHUNK_MAX))
		return dcfs_error_set(e, EIO, "chunk %s: bad size %lld", name + 3, (long long)st.st_size);
	_cleanup_free_ void *buf = malloc((size_t)st.st_size);
	if (!buf)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	ssize_t got = dcfs_read_full(fd, buf, (size_t)st.st_size);
	if (got < 0)
		return dcfs_error_set(e, got, "chunk %s: %s", name + 3, strerror((int)-got));
	size_t n = ZSTD_decompressDCtx(dctx, out, DCFS_CHUNK_MAX, buf, (size_t)got);
	if (ZSTD_isError(n))
		return dcfs_error_set(e, EIO, "chunk %s: corrupt: %s", name + 3, ZSTD_getErrorName(n));
	dcfs_hash actual;
	dcfs_hash_buf(out, n, &actual);
	if (memcmp(actual.b, h->b, DCFS_HASH_LEN) != 0)
		return dcfs_error_set(e, EIO, "chunk %s: content does not match its hash", name + 3);
	return (ssize_t)n;
}
