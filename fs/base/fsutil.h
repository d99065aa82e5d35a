/* Small file-system helpers: create folder chains, remove trees, full reads and writes. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p; returns 0 or -errno. */
int dcfs_mkdir_p(const char *path, mode_t mode);
/* rm -rf, not following symlinks; returns 0 or -errno (missing is not an error). It
 * never crosses into another mount (EBUSY there, the mount's contents left alone), so a view
 * of a user's folder mounted inside the tree stays untouched. */
int dcfs_rm_rf(const char *path);
int dcfs_rm_rf_at(int dirfd, const char *name);
/* Write all of buf; returns 0 or -errno. */
int dcfs_write_all(int fd, const void *buf, size_t len);
/* Read until len bytes or end of file; returns bytes read or -errno. */
ssize_t dcfs_read_full(int fd, void *buf, size_t len);
