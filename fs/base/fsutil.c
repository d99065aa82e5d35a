/* Small file-system helpers (see fsutil.h). */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int dcfs_mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Which mount a descriptor's file is on: the mount id where the kernel gives it (it tells a bind
 * mount from its source), else the device. */
static uint64_t mount_of(int dirfd, const char *name)
{
	struct statx sx;
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH), STATX_MNT_ID,
		  &sx) == 0 && (sx.stx_mask & STATX_MNT_ID))
		return sx.stx_mnt_id;
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH)) < 0)
		return 0;
	return ((uint64_t)1 << 63) | (uint64_t)st.st_dev;
}

static int rm_at(int dirfd, const char *name, uint64_t mnt);

/* Remove what the folder open at `fd` holds, never crossing into another mount (a FUSE view of a
 * user's folder, a bind mount): that fails with EBUSY and leaves the mount alone. Goes on past a
 * failure and returns the last one. */
static int rm_children(int fd, uint64_t mnt)
{
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return r;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int q = rm_at(dirfd(d), de->d_name, mnt);
		if (q < 0)
			r = q;
	}
	return r;
}

static int rm_at(int dirfd, const char *name, uint64_t mnt)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* not a directory (or gone): unlink it */
		if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
			return 0;
		return -errno;
	}
	uint64_t here = mount_of(fd, "");
	if (mnt && here != mnt) {
		close(fd);
		return -EBUSY; /* a mount point: not ours to empty */
	}
	int r = rm_children(fd, here);
	if (r < 0)
		return r;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int dcfs_rm_rf_at(int dirfd, const char *name)
{
	/* the top must be on its parent's mount too */
	_cleanup_close_ int parent = openat(dirfd, *name ? name : ".", O_PATH | O_CLOEXEC);
	uint64_t mnt = 0;
	if (parent >= 0) {
		_cleanup_close_ int up = openat(parent, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (up >= 0)
			mnt = mount_of(up, "");
	}
	return rm_at(dirfd, name, mnt);
}

int dcfs_rm_rf(const char *path)
{
	return dcfs_rm_rf_at(AT_FDCWD, path);
}

int dcfs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t dcfs_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}
