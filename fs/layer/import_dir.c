/* Reading a directory tree for import: entries in sorted order, hardlinks found by inode,
 * holes found with SEEK_DATA/SEEK_HOLE, extended attributes of every namespace we can read.
 *
 * An overlay upper directory (a container's changes, for a snapshot) is read the same way, with
 * overlayfs's own markers turned into layer semantics: a 0/0 character device is a whiteout,
 * `trusted.overlay.opaque=y` makes a directory opaque, and the other `trusted.overlay.*`
 * attributes (overlayfs's bookkeeping) are not content. A redirected directory or a metacopy
 * file only makes sense next to its lower layer, so it is refused by name.
 *
 * The walk never follows a symbolic link below the source: every entry is opened relative to
 * its directory's descriptor with O_NOFOLLOW (a directory with O_DIRECTORY, a regular file to
 * read it, anything else with O_PATH), and what was opened is what is read (fstat, attributes,
 * link target, data all through that descriptor). An entry whose type changed between readdir
 * and open (a directory swapped for a symlink to somewhere else) stops the import with an error
 * naming it; it is never followed. */
#include "import.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "chunk.h"
#include "cleanup.h"
#include "dir_names.h"
#include "fsutil.h"
#include "grow.h"
#include "map.h"
#include "xattrs.h"

typedef struct walk {
	dcfs_layer_writer *in;
	const char *root;
	dcfs_map inodes; /* (dev, ino) -> index into links */
	char **links;    /* first relative path of each multiply linked inode */
	size_t nlinks, links_cap;
	unsigned char *buf;
	bool upper;  /* an overlay upper directory */
	bool no_root; /* the folder itself is not an entry (an image layer's diff folder) */
	bool opaque; /* set by read_xattrs: the entry is an opaque directory */
} walk;

/* An entry opened for reading: its descriptor, and for an O_PATH one (which the f*xattr calls
 * refuse) the /proc/self/fd name that reaches the same inode without following it. */
typedef struct opened {
	int fd;
	bool by_path;
	char proc[32];
} opened;

#define OVL_XATTR "trusted.overlay."

/* An overlayfs attribute of an upper directory's entry: note an opaque directory, refuse what
 * a layer cannot express. Returns 1 when the attribute is overlayfs's, not content. */
static int overlay_xattr(walk *w, const char *full, const char *name, const char *value,
			 size_t len, dcfs_error *e)
{
	if (strncmp(name, OVL_XATTR, strlen(OVL_XATTR)))
		return 0;
	const char *what = name + strlen(OVL_XATTR);
	if (!strcmp(what, "opaque"))
		w->opaque = len == 1 && value[0] == 'y';
	else if (!strcmp(what, "redirect") || !strcmp(what, "metacopy"))
		return dcfs_error_set(e, EXDEV, "'%s': an overlay %s cannot be part of a layer", full,
				      what);
	return 1;
}

/* listxattr/getxattr of the opened inode. Through /proc/self/fd/N the magic link leads to the
 * inode itself, a symlink included: the link is not followed any further. */
static ssize_t list_attrs(const opened *o, char *names, size_t size)
{
	return o->by_path ? listxattr(o->proc, names, size) : flistxattr(o->fd, names, size);
}

static ssize_t get_attr(const opened *o, const char *name, void *value, size_t size)
{
	return o->by_path ? getxattr(o->proc, name, value, size)
			  : fgetxattr(o->fd, name, value, size);
}

static int read_xattrs(walk *w, const opened *o, const char *full, dcfs_xattrs *x, dcfs_error *e)
{
	w->opaque = false;
	ssize_t n = list_attrs(o, NULL, 0);
	if (n < 0) {
		if (errno == ENOTSUP || errno == ENODATA)
			return 0;
		return dcfs_error_set(e, errno, "cannot list attributes of '%s': %m", full);
	}
	if (n == 0)
		return 0;
	_cleanup_free_ char *names = malloc((size_t)n);
	if (!names)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	n = list_attrs(o, names, (size_t)n);
	if (n < 0)
		return dcfs_error_set(e, errno, "cannot list attributes of '%s': %m", full);
	for (char *name = names; name < names + n; name += strlen(name) + 1) {
		ssize_t vlen = get_attr(o, name, NULL, 0);
		if (vlen < 0) {
			if (errno == ENODATA)
				continue;
			return dcfs_error_set(e, errno, "cannot read attribute '%s' of '%s': %m", name, full);
		}
		_cleanup_free_ char *value = malloc((size_t)vlen + 1);
		if (!value)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		vlen = get_attr(o, name, value, (size_t)vlen);
		if (vlen < 0)
			return dcfs_error_set(e, errno, "cannot read attribute '%s' of '%s': %m", name, full);
		int r = w->upper ? overlay_xattr(w, full, name, value, (size_t)vlen, e) : 0;
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (dcfs_xattrs_add(x, name, value, (size_t)vlen) < 0)
			return dcfs_error_set(e, E2BIG, "attribute '%s' of '%s' is too large", name, full);
	}
	if (dcfs_xattrs_sort(x) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

/* Read a file with every block allocated in one go: no hole search. */
static int read_dense(walk *w, int fd, const char *full, uint64_t size, dcfs_error *e)
{
	for (uint64_t pos = 0; pos < size;) {
		size_t want = size - pos < DCFS_CHUNK_MAX ? (size_t)(size - pos) : DCFS_CHUNK_MAX;
		ssize_t n = pread(fd, w->buf, want, (off_t)pos);
		if (n < 0)
			return dcfs_error_set(e, errno, "cannot read '%s': %m", full);
		if (n == 0)
			break; /* the file shrank while we read it: the rest reads as a hole */
		int r = dcfs_layer_writer_data(w->in, pos, w->buf, (size_t)n, e);
		if (r < 0)
			return r;
		pos += (uint64_t)n;
	}
	return 0;
}

static int read_file_data(walk *w, int fd, const char *full, uint64_t size, bool sparse,
			  dcfs_error *e)
{
	if (!sparse)
		return read_dense(w, fd, full, size, e);
	uint64_t off = 0;
	while (off < size) {
		off_t data = lseek(fd, (off_t)off, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break; /* a hole up to the end */
			data = (off_t)off;  /* no SEEK_DATA support: read everything */
		}
		off_t hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > size)
			hole = (off_t)size;
		for (uint64_t pos = (uint64_t)data; pos < (uint64_t)hole;) {
			size_t want = DCFS_CHUNK_MAX;
			if (want > (uint64_t)hole - pos)
				want = (size_t)((uint64_t)hole - pos);
			ssize_t n = pread(fd, w->buf, want, (off_t)pos);
			if (n < 0)
				return dcfs_error_set(e, errno, "cannot read '%s': %m", full);
			if (n == 0) {
				hole = (off_t)pos; /* the file shrank while we read it */
				break;
			}
			int r = dcfs_layer_writer_data(w->in, pos, w->buf, (size_t)n, e);
			if (r < 0)
				return r;
			pos += (uint64_t)n;
		}
		if ((uint64_t)hole <= off)
			break;
		off = (uint64_t)hole;
	}
	return 0;
}

static char entry_type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return DCFS_T_FILE;
	case S_IFDIR: return DCFS_T_DIR;
	case S_IFLNK: return DCFS_T_SYMLINK;
	case S_IFCHR: return DCFS_T_CHAR;
	case S_IFBLK: return DCFS_T_BLOCK;
	case S_IFIFO: return DCFS_T_FIFO;
	default: return DCFS_T_SOCKET;
	}
}

static const char *type_name(unsigned char dtype)
{
	switch (dtype) {
	case DT_REG: return "a regular file";
	case DT_DIR: return "a directory";
	case DT_LNK: return "a symbolic link";
	default: return "a special file";
	}
}

/* A second or later name of a multiply linked inode becomes a hardlink entry. */
static int hardlink_of(walk *w, const struct stat *st, const char *rel, const char **first,
		       dcfs_error *e)
{
	*first = NULL;
	if (S_ISDIR(st->st_mode) || st->st_nlink < 2)
		return 0;
	uint64_t key[2] = {st->st_dev, st->st_ino};
	size_t idx;
	if (dcfs_map_get(&w->inodes, key, sizeof(key), &idx)) {
		*first = w->links[idx];
		return 0;
	}
	if (w->nlinks == w->links_cap) {
		size_t cap = w->links_cap ? w->links_cap * 2 : 64;
		char **n = realloc(w->links, cap * sizeof(*n));
		if (!n)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		w->links = n;
		w->links_cap = cap;
	}
	w->links[w->nlinks] = strdup(rel);
	if (!w->links[w->nlinks] || dcfs_map_put(&w->inodes, key, sizeof(key), w->nlinks) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	w->nlinks++;
	return 0;
}

static int changed(const char *full, unsigned char was, dcfs_error *e)
{
	return dcfs_error_set(e, EAGAIN,
			      "'%s' changed while it was being imported (it was %s); nothing was "
			      "imported",
			      full, type_name(was));
}

/* Open `name` in `dfd` as readdir saw it (`dtype`), never following a symlink: a directory to
 * list it, a regular file to read it, anything else O_PATH. *st is what was opened. */
static int open_entry(int dfd, const char *name, unsigned char dtype, const char *full,
		      opened *o, struct stat *st, dcfs_error *e)
{
	if (dtype == DT_UNKNOWN) {
		if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
			return dcfs_error_set(e, errno, "cannot stat '%s': %m", full);
		dtype = IFTODT(st->st_mode);
	}
	int flags = O_CLOEXEC | O_NOFOLLOW;
	if (dtype == DT_DIR)
		flags |= O_RDONLY | O_DIRECTORY;
	else if (dtype == DT_REG)
		flags |= O_RDONLY | O_NONBLOCK | O_NOATIME; /* no FIFO swapped in blocks us */
	else
		flags |= O_PATH;
	o->fd = openat(dfd, name, flags);
	if (o->fd < 0 && errno == EPERM && (flags & O_NOATIME))
		o->fd = openat(dfd, name, flags & ~O_NOATIME);
	if (o->fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return changed(full, dtype, e);
		return dcfs_error_set(e, errno, "cannot open '%s': %m", full);
	}
	if (fstat(o->fd, st) < 0)
		return dcfs_error_set(e, errno, "cannot stat '%s': %m", full);
	if (IFTODT(st->st_mode) != dtype)
		return changed(full, dtype, e);
	o->by_path = flags & O_PATH;
	if (o->by_path)
		snprintf(o->proc, sizeof(o->proc), "/proc/self/fd/%d", o->fd);
	return 0;
}

static int read_link(const opened *o, const struct stat *st, const char *full, char **target,
		     dcfs_error *e)
{
	*target = malloc((size_t)st->st_size + 1);
	if (!*target)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	ssize_t n = readlinkat(o->fd, "", *target, (size_t)st->st_size + 1);
	if (n < 0 || n > st->st_size)
		return dcfs_error_set(e, n < 0 ? errno : EIO, "cannot read link '%s'", full);
	(*target)[n] = '\0';
	return 0;
}

/* Add the entry opened as `o` (`st`) at `rel`. */
static int add_one(walk *w, const opened *o, const struct stat *st, const char *rel,
		   const char *full, dcfs_error *e)
{
	const char *first = NULL;
	int r = hardlink_of(w, st, rel, &first, e);
	if (r < 0)
		return r;
	_cleanup_(dcfs_xattrs_free) dcfs_xattrs x = {0};
	_cleanup_free_ char *target = NULL;
	dcfs_entry_info info = {
		.path = rel,
		.type = first ? DCFS_T_HARDLINK : entry_type(st->st_mode),
		.mode = st->st_mode & 07777,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
		.size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0,
		.rdev = st->st_rdev,
		.target = first,
	};
	if (!first) {
		r = read_xattrs(w, o, full, &x, e);
		if (r < 0)
			return r;
		info.xattrs = x.buf;
		info.xattrs_len = x.len;
	}
	if (S_ISLNK(st->st_mode)) {
		if ((r = read_link(o, st, full, &target, e)) < 0)
			return r;
		info.target = target;
	}
	if (w->upper && S_ISCHR(st->st_mode) && st->st_rdev == 0)
		info = (dcfs_entry_info){.path = rel, .type = DCFS_T_WHITEOUT, .uid = st->st_uid,
					 .gid = st->st_gid, .mtime_ns = info.mtime_ns};
	r = dcfs_layer_writer_add(w->in, &info, e);
	if (r >= 0 && w->upper && w->opaque && S_ISDIR(st->st_mode))
		r = dcfs_layer_writer_set_opaque(w->in, rel, e);
	if (r < 0)
		return r;
	if (info.type == DCFS_T_FILE && info.size > 0)
		return read_file_data(w, o->fd, full, info.size,
				      (uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size, e);
	return 0;
}

/* The entries of the open directory `d`, sorted by name. */
static int list_dir(DIR *d, const char *full, dcfs_dir_name **out, size_t *count, dcfs_error *e)
{
	int r = dcfs_dir_names(d, out, count);
	if (r == -ENOMEM)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (r < 0)
		return dcfs_error_set(e, r, "cannot read directory '%s': %s", full, strerror(-r));
	return 0;
}

static int walk_dir(walk *w, int dfd, const char *rel, const char *full, dcfs_error *e);

/* Open, add and (a directory) walk the entry `name` of the directory `dfd`. */
static int walk_entry(walk *w, int dfd, const dcfs_dir_name *de, const char *rel, dcfs_error *e)
{
	_cleanup_free_ char *child = NULL, *full = NULL;
	if (asprintf(&child, "%s%s%s", rel, *rel ? "/" : "", de->name) < 0 ||
	    asprintf(&full, "%s/%s", w->root, child) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_close_ int fd = -1;
	opened o = {.fd = -1};
	struct stat st;
	int r = open_entry(dfd, de->name, de->dtype, full, &o, &st, e);
	fd = o.fd;
	if (r < 0)
		return r;
	r = add_one(w, &o, &st, child, full, e);
	if (r < 0 || !S_ISDIR(st.st_mode))
		return r;
	return walk_dir(w, TAKE_FD(fd), child, full, e);
}

/* Walk the directory open as `dfd` (taken over) at `rel`. */
static int walk_dir(walk *w, int dfd, const char *rel, const char *full, dcfs_error *e)
{
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		int err = errno;
		close(dfd);
		return dcfs_error_set(e, err, "cannot open directory '%s': %s", full, strerror(err));
	}
	dcfs_dir_name *names = NULL;
	size_t n = 0;
	int r = list_dir(d, full, &names, &n, e);
	for (size_t i = 0; i < n && r >= 0; i++)
		r = walk_entry(w, dirfd(d), &names[i], rel, e);
	dcfs_dir_names_free(names, n);
	return r;
}

/* The source directory itself: the one path that is followed (it is the caller's). */
static int walk_root(walk *w, dcfs_error *e)
{
	opened o = {.fd = open(w->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
	if (o.fd < 0)
		return dcfs_error_set(e, errno, "cannot open directory '%s': %m", w->root);
	struct stat st;
	int r = fstat(o.fd, &st) < 0 ? dcfs_error_set(e, errno, "cannot stat '%s': %m", w->root)
				     : 0;
	if (r >= 0 && !w->no_root)
		r = add_one(w, &o, &st, "", w->root, e);
	if (r < 0) {
		close(o.fd);
		return r;
	}
	return walk_dir(w, o.fd, "", w->root, e);
}

static int read_tree(dcfs_layer_writer *in, const char *dir, bool upper, bool no_root,
		     dcfs_error *e)
{
	/* The source may be a symlink to the tree: import what it points at. */
	_cleanup_free_ char *root = realpath(dir, NULL);
	if (!root)
		return dcfs_error_set(e, errno, "cannot resolve '%s': %m", dir);
	walk w = {.in = in, .root = root, .upper = upper, .no_root = no_root};
	w.buf = malloc(DCFS_CHUNK_MAX);
	int r = w.buf ? walk_root(&w, e) : dcfs_error_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < w.nlinks; i++)
		free(w.links[i]);
	free(w.links);
	dcfs_map_free(&w.inodes);
	free(w.buf);
	return r;
}

int dcfs_import_read_dir(dcfs_layer_writer *in, const char *dir, dcfs_error *e)
{
	return read_tree(in, dir, false, false, e);
}

int dcfs_import_read_upper(dcfs_layer_writer *in, const char *dir, dcfs_error *e)
{
	return read_tree(in, dir, true, false, e);
}

int dcfs_import_read_diff(dcfs_layer_writer *in, const char *dir, dcfs_error *e)
{
	return read_tree(in, dir, true, true, e);
}
