/* The build context's part of the build key (see build_key_internal.h): a walk of the context
 * through folder descriptors (openat, fstatat; no symlink followed), each folder's names in
 * bytewise order, what .dockerignore excludes skipped. An excluded folder is only walked when an
 * exception may re-include something under it, and is then hashed just before the first entry
 * it re-includes, as BuildKit sends the parents of such an entry. mtimes are not hashed: a
 * touched file does not change the key. */
#include "build_key_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "dir_names.h"

#define READ_BUF (1u << 20)

/* An excluded folder walked for its exceptions, hashed once something under it is. */
typedef struct pending_dir {
	struct pending_dir *up;
	size_t rel_len; /* its path: the first rel_len bytes of key_walk.rel */
	struct stat st;
	bool hashed;
} pending_dir;

typedef struct key_walk {
	dcfs_hasher *h;
	dcfs_hasher file; /* one regular file's bytes */
	const dcfs_dockerignore *ignore;
	const char *context;
	unsigned char *buf;
	char rel[PATH_MAX]; /* the entry's path relative to the context */
	size_t rel_len;
	dcfs_error *e;
} key_walk;

static int fail(key_walk *w, int err, const char *what)
{
	return dcfs_error_set(w->e, err, "%s/%.*s: %s: %s", w->context, (int)w->rel_len, w->rel,
			      what, strerror(err));
}

/* ---- hashing one entry ------------------------------------------------------------------- */

static int hash_file(key_walk *w, int fd, unsigned char digest[DCFS_HASH_LEN])
{
	for (;;) {
		ssize_t n = read(fd, w->buf, READ_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(w, errno, "cannot read");
		if (n == 0)
			break;
		dcfs_hasher_update(&w->file, w->buf, (size_t)n);
	}
	dcfs_hash d;
	dcfs_hasher_final(&w->file, &d);
	memcpy(digest, d.b, DCFS_HASH_LEN);
	return 0;
}

/* The record of the entry at w->rel[0..rel_len): its stat, the file's descriptor for a regular
 * file (-1 otherwise), its folder's descriptor and name for a symlink. */
static int hash_entry(key_walk *w, size_t rel_len, const struct stat *st, int fd, int dfd,
		      const char *name)
{
	char target[PATH_MAX] = "";
	unsigned char digest[DCFS_HASH_LEN] = {0};
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return fail(w, errno, "cannot read the link");
		target[n] = '\0';
	} else if (S_ISREG(st->st_mode)) {
		int r = hash_file(w, fd, digest);
		if (r < 0)
			return r;
	}
	bool dev = S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode);
	dcfs_build_key_put_u64(w->h, 1);
	dcfs_build_key_put(w->h, w->rel, rel_len);
	dcfs_build_key_put_u64(w->h, st->st_mode & S_IFMT);
	dcfs_build_key_put_u64(w->h, st->st_mode & 07777);
	dcfs_build_key_put_u64(w->h, st->st_uid);
	dcfs_build_key_put_u64(w->h, st->st_gid);
	dcfs_build_key_put_u64(w->h, S_ISDIR(st->st_mode) ? 0 : (uint64_t)st->st_size);
	dcfs_build_key_put_str(w->h, target);
	dcfs_build_key_put_u64(w->h, dev ? (uint64_t)major(st->st_rdev) << 32 | minor(st->st_rdev) : 0);
	dcfs_build_key_put(w->h, digest, S_ISREG(st->st_mode) ? DCFS_HASH_LEN : 0);
	return 0;
}

/* Hash the excluded folders above an entry that is re-included, outermost first. */
static int hash_pending(key_walk *w, pending_dir *p)
{
	if (!p || p->hashed)
		return 0;
	int r = hash_pending(w, p->up);
	if (r < 0)
		return r;
	p->hashed = true;
	return hash_entry(w, p->rel_len, &p->st, -1, -1, NULL);
}

/* ---- walking ------------------------------------------------------------------------------ */

static int walk_dir(key_walk *w, int dfd, pending_dir *pending);

/* The names in the folder `dir`, sorted. */
static int read_names(key_walk *w, DIR *dir, dcfs_dir_name **out, size_t *n_out)
{
	int r = dcfs_dir_names(dir, out, n_out);
	if (r == -ENOMEM)
		return dcfs_error_set(w->e, ENOMEM, "out of memory");
	return r < 0 ? fail(w, -r, "cannot list") : 0;
}

/* Walk the folder `name` of `dfd` (its own entry is the caller's: hashed, or in `pending`). */
static int descend(key_walk *w, int dfd, const char *name, pending_dir *pending)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(w, errno, "cannot open");
	return walk_dir(w, fd, pending);
}

/* One entry of a folder (w->rel is its path). */
static int visit(key_walk *w, int dfd, const dcfs_dir_name *d, pending_dir *up)
{
	bool excluded = dcfs_dockerignore_match(w->ignore, w->rel);
	if (excluded && d->dtype != DT_DIR && d->dtype != DT_UNKNOWN)
		return 0;
	struct stat st;
	_cleanup_close_ int fd = -1;
	if (d->dtype == DT_REG && !excluded) {
		fd = openat(dfd, d->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd < 0 || fstat(fd, &st) < 0)
			return fail(w, errno, "cannot read");
	} else if (fstatat(dfd, d->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		return fail(w, errno, "cannot stat");
	}
	if (S_ISREG(st.st_mode) && fd < 0 && !excluded) {
		fd = openat(dfd, d->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd < 0)
			return fail(w, errno, "cannot read");
	}
	if (excluded) {
		if (!S_ISDIR(st.st_mode) || !dcfs_dockerignore_walk_excluded(w->ignore, w->rel))
			return 0;
		pending_dir p = {.up = up, .rel_len = w->rel_len, .st = st};
		return descend(w, dfd, d->name, &p);
	}
	int r = hash_pending(w, up);
	if (r < 0 || (r = hash_entry(w, w->rel_len, &st, fd, dfd, d->name)) < 0)
		return r;
	return S_ISDIR(st.st_mode) ? descend(w, dfd, d->name, up) : 0;
}

/* Walk the folder open at `fd` (taken over), whose path is w->rel. */
static int walk_dir(key_walk *w, int fd, pending_dir *pending)
{
	_cleanup_closedir_ DIR *dir = fdopendir(fd);
	if (!dir) {
		int err = errno;
		close(fd);
		return fail(w, err, "cannot list");
	}
	dcfs_dir_name *names = NULL;
	size_t n = 0, base = w->rel_len;
	int r = read_names(w, dir, &names, &n);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		size_t len = strlen(names[i].name);
		if (base + 1 + len >= sizeof(w->rel)) {
			r = fail(w, ENAMETOOLONG, names[i].name);
			break;
		}
		size_t at = base ? base + 1 : 0;
		if (base)
			w->rel[base] = '/';
		memcpy(w->rel + at, names[i].name, len + 1);
		w->rel_len = at + len;
		r = visit(w, dirfd(dir), &names[i], pending);
	}
	w->rel_len = base;
	w->rel[base] = '\0';
	dcfs_dir_names_free(names, n);
	return r;
}

int dcfs_build_key_walk(dcfs_hasher *h, const char *context, const dcfs_dockerignore *ignore,
			dcfs_error *e)
{
	_cleanup_free_ key_walk *w = calloc(1, sizeof(*w));
	_cleanup_free_ unsigned char *buf = malloc(READ_BUF);
	if (!w || !buf)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	*w = (key_walk){.h = h, .ignore = ignore, .context = context, .buf = buf, .e = e};
	int fd = open(context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return dcfs_error_set(e, errno, "%s: cannot open the build context: %m", context);
	dcfs_hasher_init(&w->file);
	int r = walk_dir(w, fd, NULL);
	dcfs_hasher_free(&w->file);
	if (r >= 0)
		dcfs_build_key_put_u64(h, 0);
	return r;
}
