/* A feature's tarball (plain or gzip, as `devcontainer features package` writes it) unpacked
 * into the store (see feature_fetch_internal.h). libarchive reads the stream; the entries are
 * written here, not by archive_write_disk, so that every name is reached from the new folder's
 * descriptor one component at a time with O_NOFOLLOW: an absolute name, a ".." component, a
 * path through a symlink or a file, a hard link or a special file is refused, and nothing is
 * ever written outside the folder. Sizes and entry counts are bounded (a gzip bomb stops). The
 * folder is published by one rename, so concurrent fetches of one feature are safe. */
#include "feature_fetch_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

DEFINE_TRIVIAL_CLEANUP(struct archive *, archive_read_free)

/* One unpacking: the stream, the new folder, what was written so far. */
typedef struct unpack {
	const dcfs_feature_stream *in;
	dcfs_error *e;
	int stream_err; /* the stream's -errno, with `e` set, when it failed */
	int root;	/* the new folder */
	uint64_t bytes, entries;
} unpack;

static la_ssize_t read_cb(struct archive *a, void *opaque, const void **buf)
{
	unpack *u = opaque;
	ssize_t n = u->in->read(u->in->opaque, buf, u->e);
	if (n < 0) {
		u->stream_err = (int)n;
		archive_set_error(a, EIO, "the stream failed");
		return -1;
	}
	return n;
}

bool dcfs_feature_unpacked(int dest_fd, const char *name)
{
	_cleanup_close_ int fd =
		openat(dest_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	return fd >= 0 && fstatat(fd, "devcontainer-feature.json", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode);
}

static int refuse(unpack *u, const char *path, const char *why)
{
	return dcfs_error_set(u->e, EINVAL, "%s: entry '%s' %s: refused", u->in->what, path, why);
}

/* The folder that holds the last component of `path` (opened, created as needed), and that
 * last component in *leaf (inside `path`, which is edited): a descriptor, or -errno; -ENODATA
 * for the archive's root itself ("./"). */
static int open_parent(unpack *u, char *path, const char *entry, const char **leaf)
{
	if (path[0] == '/')
		return refuse(u, entry, "is an absolute name");
	_cleanup_close_ int fd = dup(u->root);
	if (fd < 0)
		return dcfs_error_set(u->e, errno, "dup: %m");
	char *save = NULL, *next = NULL;
	for (char *c = strtok_r(path, "/", &save); c; c = next) {
		next = strtok_r(NULL, "/", &save);
		if (!strcmp(c, ".."))
			return refuse(u, entry, "holds '..'");
		if (!strcmp(c, "."))
			continue;
		if (!next) {
			*leaf = c;
			return TAKE_FD(fd);
		}
		if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST)
			return dcfs_error_set(u->e, errno, "%s: cannot create '%s': %m", u->in->what,
					      entry);
		int sub = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 && (errno == ELOOP || errno == ENOTDIR))
			return refuse(u, entry, "passes through a symlink or a file");
		if (sub < 0)
			return dcfs_error_set(u->e, errno, "%s: cannot open '%s': %m", u->in->what,
					      entry);
		close(fd);
		fd = sub;
	}
	return -ENODATA;
}

/* Make room for a new non-folder `leaf`: a file or symlink there goes (the later entry wins, as
 * with tar); a folder there is a conflict. */
static int clear_leaf(unpack *u, int dir, const char *leaf, const char *entry)
{
	struct stat st;
	if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (S_ISDIR(st.st_mode))
		return refuse(u, entry, "replaces a folder");
	if (unlinkat(dir, leaf, 0) < 0)
		return dcfs_error_set(u->e, errno, "%s: cannot replace '%s': %m", u->in->what, entry);
	return 0;
}

static int write_dir(unpack *u, int dir, const char *leaf, mode_t mode, const char *entry)
{
	struct stat st;
	if (mkdirat(dir, leaf, (mode & 0777) | 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return dcfs_error_set(u->e, errno, "%s: cannot create '%s': %m", u->in->what, entry);
	if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return refuse(u, entry, "replaces a file or symlink with a folder");
	if (fchmodat(dir, leaf, (mode & 0777) | 0700, 0) < 0)
		return dcfs_error_set(u->e, errno, "%s: cannot chmod '%s': %m", u->in->what, entry);
	return 0;
}

/* The entry's bytes into `fd`, within the bound on all the files' bytes (the header's size
 * counts, so that no bytes beyond it are read). */
static int copy_data(unpack *u, struct archive *a, struct archive_entry *ae, int fd,
		     const char *entry)
{
	la_int64_t size = archive_entry_size(ae);
	u->bytes += size > 0 ? (uint64_t)size : 0;
	if (u->bytes > DCFS_FEATURE_MAX_FILES)
		return dcfs_error_set(u->e, EFBIG, "%s: its files hold more than %llu bytes",
				      u->in->what, (unsigned long long)DCFS_FEATURE_MAX_FILES);
	if (archive_read_data_into_fd(a, fd) >= ARCHIVE_WARN)
		return 0;
	return u->stream_err ? u->stream_err
			     : dcfs_error_set(u->e, EIO, "%s: '%s': %s", u->in->what, entry,
					      archive_error_string(a));
}

static int write_file(unpack *u, struct archive *a, struct archive_entry *ae, int dir,
		      const char *leaf, const char *entry)
{
	int r = clear_leaf(u, dir, leaf, entry);
	if (r < 0)
		return r;
	_cleanup_close_ int fd =
		openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return dcfs_error_set(u->e, errno, "%s: cannot create '%s': %m", u->in->what, entry);
	r = copy_data(u, a, ae, fd, entry);
	if (r < 0)
		return r;
	if (ftruncate(fd, (off_t)archive_entry_size(ae)) < 0 ||
	    fchmod(fd, archive_entry_perm(ae) & 0777) < 0)
		return dcfs_error_set(u->e, errno, "%s: cannot finish '%s': %m", u->in->what, entry);
	return 0;
}

static int write_link(unpack *u, struct archive_entry *ae, int dir, const char *leaf,
		      const char *entry)
{
	const char *target = archive_entry_symlink(ae);
	if (!target || !*target)
		return refuse(u, entry, "is a symlink without a target");
	int r = clear_leaf(u, dir, leaf, entry);
	if (r < 0)
		return r;
	if (symlinkat(target, dir, leaf) < 0)
		return dcfs_error_set(u->e, errno, "%s: cannot create '%s': %m", u->in->what, entry);
	return 0;
}

static int write_entry(unpack *u, struct archive *a, struct archive_entry *ae)
{
	const char *entry = archive_entry_pathname(ae);
	if (!entry || !*entry)
		return dcfs_error_set(u->e, EINVAL, "%s: an entry without a name: refused",
				      u->in->what);
	if (++u->entries > DCFS_FEATURE_MAX_ENTRIES)
		return dcfs_error_set(u->e, EFBIG, "%s: more than %d entries", u->in->what,
				      DCFS_FEATURE_MAX_ENTRIES);
	if (archive_entry_hardlink(ae))
		return refuse(u, entry, "is a hard link");
	mode_t type = archive_entry_filetype(ae);
	if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
		return refuse(u, entry, "is not a file, folder or symlink");
	_cleanup_free_ char *path = strdup(entry);
	if (!path)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	const char *leaf = NULL;
	_cleanup_close_ int dir = open_parent(u, path, entry, &leaf);
	if (dir == -ENODATA)
		return type == AE_IFDIR ? 0 : refuse(u, entry, "names the folder itself");
	if (dir < 0)
		return dir;
	if (type == AE_IFDIR)
		return write_dir(u, dir, leaf, archive_entry_perm(ae), entry);
	if (type == AE_IFLNK)
		return write_link(u, ae, dir, leaf, entry);
	return write_file(u, a, ae, dir, leaf, entry);
}

static int unpack_entries(unpack *u)
{
	_cleanup_(archive_read_freep) struct archive *a = archive_read_new();
	if (!a)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	if (archive_read_open(a, u, NULL, read_cb, NULL) != ARCHIVE_OK)
		return u->stream_err ? u->stream_err
				     : dcfs_error_set(u->e, EINVAL, "%s: not a tar archive: %s",
						      u->in->what, archive_error_string(a));
	for (;;) {
		struct archive_entry *ae;
		int r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return u->stream_err ? u->stream_err
					     : dcfs_error_set(u->e, EINVAL, "%s: bad tar archive: %s",
							      u->in->what, archive_error_string(a));
		r = write_entry(u, a, ae);
		if (r < 0)
			return r;
	}
}

/* The rest of the stream (a tar's padding), then the caller's digest check. */
static int drain(unpack *u)
{
	for (;;) {
		const void *buf;
		ssize_t n = u->in->read(u->in->opaque, &buf, u->e);
		if (n <= 0)
			return (int)n;
		u->bytes += (uint64_t)n;
		if (u->bytes > DCFS_FEATURE_MAX_FILES + DCFS_FEATURE_MAX_TAR)
			return dcfs_error_set(u->e, EFBIG, "%s: too long", u->in->what);
	}
}

/* The rest of the stream and its digest check after a bad entry: a damaged download reads as
 * a bad tar, and its digest says so more truly. 0 when the bytes are what was asked for. */
static int check_rest(unpack *u)
{
	_cleanup_error_ dcfs_error err = {0};
	dcfs_error *keep = u->e;
	u->e = &err;
	int r = drain(u);
	if (r >= 0 && u->in->finish)
		r = u->in->finish(u->in->opaque, &err);
	u->e = keep;
	if (r >= 0 || r == -EFBIG)
		return 0;
	return dcfs_error_set(keep, r, "%s", err.msg ? err.msg : strerror(-r));
}

static int fill(unpack *u)
{
	int r = unpack_entries(u);
	if (r < 0 && !u->stream_err) {
		int k = check_rest(u);
		return k < 0 ? k : r;
	}
	if (r >= 0)
		r = drain(u);
	if (r >= 0 && u->in->finish)
		r = u->in->finish(u->in->opaque, u->e);
	if (r >= 0 && !dcfs_feature_unpacked(u->root, "."))
		r = dcfs_error_set(u->e, EINVAL, "%s: no devcontainer-feature.json at its top",
				   u->in->what);
	return r;
}

static int publish(int tmp_fd, const char *tmp, int dest_fd, const char *name, dcfs_error *e)
{
	if (renameat(tmp_fd, tmp, dest_fd, name) == 0)
		return 0;
	int err = errno;
	dcfs_rm_rf_at(tmp_fd, tmp);
	if ((err == EEXIST || err == ENOTEMPTY) && dcfs_feature_unpacked(dest_fd, name))
		return 0; /* another fetch of the same feature was first */
	return dcfs_error_set(e, err, "cannot rename the feature into '%s': %s", name, strerror(err));
}

int dcfs_feature_unpack(const dcfs_feature_stream *in, int tmp_fd, int dest_fd, const char *name,
			dcfs_error *e)
{
	char tmp[256];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(tmp, sizeof(tmp), ".feature-%.64s.%d.%lx", name, (int)getpid(),
		 (unsigned long)ts.tv_nsec);
	if (mkdirat(tmp_fd, tmp, 0755) < 0)
		return dcfs_error_set(e, errno, "cannot create a folder for %s: %m", in->what);
	unpack u = {.in = in, .e = e};
	u.root = openat(tmp_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r = u.root < 0 ? dcfs_error_set(e, errno, "cannot open a folder for %s: %m", in->what)
			   : fill(&u);
	if (u.root >= 0)
		close(u.root);
	if (r < 0) {
		dcfs_rm_rf_at(tmp_fd, tmp);
		return r;
	}
	return publish(tmp_fd, tmp, dest_fd, name, e);
}
