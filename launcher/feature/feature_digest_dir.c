/* A local feature folder's digest (see feature_fetch_internal.h): the folder walked in bytewise
 * name order through descriptors, never following a symlink, each entry hashed as a
 * length-prefixed record -- type, name, permission bits, then a file's size and bytes, a
 * symlink's target, or a folder's entries and an end mark -- so the digest changes with any
 * name, mode or content and no two trees share one. */
#include "feature_fetch_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "dir_names.h"

#define DIGEST_DEPTH 64

static void hash_u64(dcfs_hasher *h, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	dcfs_hasher_update(h, b, sizeof(b));
}

static void hash_bytes(dcfs_hasher *h, const void *p, size_t n)
{
	hash_u64(h, n);
	dcfs_hasher_update(h, p, n);
}

static void hash_head(dcfs_hasher *h, char type, const char *name, mode_t mode)
{
	dcfs_hasher_update(h, &type, 1);
	hash_bytes(h, name, strlen(name));
	hash_u64(h, mode & 07777);
}

static int hash_file(dcfs_hasher *h, int dir, const char *name, const char *path, dcfs_error *e)
{
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return dcfs_error_set(e, errno, "cannot read '%s': %m", path);
	if (!S_ISREG(st.st_mode))
		return dcfs_error_set(e, EAGAIN, "'%s' changed while it was read", path);
	hash_head(h, 'f', name, st.st_mode);
	hash_u64(h, (uint64_t)st.st_size);
	char buf[65536];
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0)
			return dcfs_error_set(e, errno, "cannot read '%s': %m", path);
		if (n == 0)
			break;
		dcfs_hasher_update(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	if (total != (uint64_t)st.st_size)
		return dcfs_error_set(e, EAGAIN, "'%s' changed while it was read", path);
	return 0;
}

static int hash_link(dcfs_hasher *h, int dir, const char *name, const struct stat *st,
		     const char *path, dcfs_error *e)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dir, name, target, sizeof(target));
	if (n < 0)
		return dcfs_error_set(e, errno, "cannot read the symlink '%s': %m", path);
	if ((size_t)n == sizeof(target))
		return dcfs_error_set(e, ENAMETOOLONG, "the symlink '%s' is too long", path);
	hash_head(h, 'l', name, st->st_mode);
	hash_bytes(h, target, (size_t)n);
	return 0;
}

static int hash_dir(dcfs_hasher *h, int fd, const char *path, int depth, dcfs_error *e);

static int hash_entry(dcfs_hasher *h, int dir, const char *name, const char *path, int depth,
		      dcfs_error *e)
{
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return dcfs_error_set(e, errno, "cannot stat '%s': %m", path);
	if (S_ISREG(st.st_mode))
		return hash_file(h, dir, name, path, e);
	if (S_ISLNK(st.st_mode))
		return hash_link(h, dir, name, &st, path, e);
	if (!S_ISDIR(st.st_mode))
		return dcfs_error_set(e, EINVAL,
				      "'%s' is not a file, folder or symlink: a feature cannot hold it",
				      path);
	_cleanup_close_ int sub =
		openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return dcfs_error_set(e, errno, "cannot open '%s': %m", path);
	hash_head(h, 'd', name, st.st_mode);
	int r = hash_dir(h, sub, path, depth + 1, e);
	if (r < 0)
		return r;
	dcfs_hasher_update(h, "e", 1);
	return 0;
}

static int hash_dir(dcfs_hasher *h, int fd, const char *path, int depth, dcfs_error *e)
{
	if (depth > DIGEST_DEPTH)
		return dcfs_error_set(e, ELOOP, "'%s' is nested too deep", path);
	int dfd = dup(fd);
	_cleanup_closedir_ DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return dcfs_error_set(e, errno, "cannot list '%s': %m", path);
	}
	dcfs_dir_name *names = NULL;
	size_t count = 0;
	int r = dcfs_dir_names(d, &names, &count);
	if (r < 0)
		return dcfs_error_set(e, r, "cannot list '%s': %s", path, strerror(-r));
	for (size_t i = 0; i < count && r >= 0; i++) {
		_cleanup_free_ char *sub = NULL;
		if (asprintf(&sub, "%s/%s", path, names[i].name) < 0)
			r = dcfs_error_set(e, ENOMEM, "out of memory");
		else
			r = hash_entry(h, fd, names[i].name, sub, depth, e);
	}
	dcfs_dir_names_free(names, count);
	return r;
}

int dcfs_feature_digest_dir(const char *path, char out[DCFS_FEATURE_DIGEST_LEN], dcfs_error *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return dcfs_error_set(e, errno, "cannot open the folder '%s': %m", path);
	dcfs_hasher h;
	dcfs_hasher_init(&h);
	static const char tag[] = "dcfs feature folder 1";
	dcfs_hasher_update(&h, tag, sizeof(tag));
	int r = hash_dir(&h, fd, path, 0, e);
	dcfs_hash sum;
	dcfs_hasher_final(&h, &sum);
	dcfs_hasher_free(&h);
	if (r < 0)
		return r;
	char hex[DCFS_HASH_HEX];
	dcfs_hash_to_hex(&sum, hex);
	snprintf(out, DCFS_FEATURE_DIGEST_LEN, "sha256:%s", hex);
	return 0;
}
