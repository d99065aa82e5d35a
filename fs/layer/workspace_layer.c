/* Bringing a workspace layer into a checkout (see workspace_layer.h). Entries come in path
 * order, so a folder comes before what it holds; hard links come last, after their targets.
 * Every path is reached from the folder one component at a time with O_NOFOLLOW. */
#include "workspace_layer.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob_content.h"
#include "cleanup.h"
#include "hash.h"
#include "layer_table.h"

typedef struct applier {
	dcfs_store *s;
	int root;	/* the checkout */
	uid_t uid;	/* its owner */
	gid_t gid;
	dcfs_blob_content content;
	const char *folder;
	dcfs_workspace_replaceable_fn replaceable;
	dcfs_workspace_apply *out;
} applier;

/* The folder that holds `path` (its last component in *base), opened without following links;
 * -ENOTDIR/-ELOOP/-ENOENT when the checkout has something else there. */
static int open_parent(applier *a, const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	int fd = fcntl(a->root, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	for (const char *p = path; slash && p < slash;) {
		const char *end = strchr(p, '/');
		char name[256];
		size_t n = (size_t)(end - p);
		if (n == 0 || n >= sizeof(name)) {
			close(fd);
			return -EINVAL;
		}
		memcpy(name, p, n);
		name[n] = 0;
		int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		close(fd);
		if (next < 0)
			return -err;
		fd = next;
		p = end + 1;
	}
	return fd;
}

static int write_piece(void *opaque, uint64_t off, const void *data, uint32_t len, dcfs_error *e)
{
	int fd = *(int *)opaque;
	for (uint32_t done = 0; done < len;) {
		ssize_t w = pwrite(fd, (const char *)data + done, len - done, (off_t)(off + done));
		if (w < 0)
			return dcfs_error_set(e, errno, "cannot write: %m");
		done += (uint32_t)w;
	}
	return 0;
}

static int write_blob(applier *a, int fd, int64_t blob_id, uint64_t size, dcfs_error *e)
{
	int r = dcfs_blob_content_read(&a->content, blob_id, size, write_piece, &fd, e);
	if (r < 0)
		return r;
	if (ftruncate(fd, (off_t)size) < 0) /* holes at the end */
		return dcfs_error_set(e, errno, "cannot write: %m");
	return 0;
}

static int fill_file(applier *a, int fd, const dcfs_entry_row *en, mode_t mode, const char *path,
		     dcfs_error *e);

static int make_file(applier *a, int dir, const char *base, const dcfs_entry_row *en, mode_t mode,
		     const char *path, dcfs_error *e)
{
	_cleanup_close_ int fd =
		openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return dcfs_error_set(e, errno, "cannot create '%s': %m", path);
	return fill_file(a, fd, en, mode, path, e);
}

/* The checkout's file replaced by the layer's: written aside, then renamed over it. */
static int replace_file(applier *a, int dir, const char *base, const dcfs_entry_row *en, mode_t mode,
			const char *path, dcfs_error *e)
{
	_cleanup_free_ char *tmp = NULL;
	if (asprintf(&tmp, ".%.200s.dcfs-prebuild", base) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (unlinkat(dir, tmp, 0) < 0 && errno != ENOENT)
		return dcfs_error_set(e, errno, "cannot remove '%s' beside '%s': %m", tmp, path);
	int r = make_file(a, dir, tmp, en, mode, path, e);
	if (r >= 0 && renameat(dir, tmp, dir, base) < 0)
		r = dcfs_error_set(e, errno, "cannot replace '%s': %m", path);
	if (r < 0)
		unlinkat(dir, tmp, 0);
	return r;
}

static int fill_file(applier *a, int fd, const dcfs_entry_row *en, mode_t mode, const char *path,
		     dcfs_error *e)
{
	uint64_t size = en->size;
	int r = 0;
	if (size > 0 && en->blob_id > 0)
		r = write_blob(a, fd, en->blob_id, size, e);
	if (r < 0)
		return dcfs_error_wrap(e, "'%s'", path);
	int64_t ns = en->mtime_ns;
	struct timespec times[2] = {{.tv_nsec = UTIME_OMIT},
				    {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000}};
	if (fchown(fd, a->uid, a->gid) < 0 || fchmod(fd, mode) < 0 || futimens(fd, times) < 0)
		return dcfs_error_set(e, errno, "cannot set the attributes of '%s': %m", path);
	return 0;
}

/* A hard link to `target` (a path of the layer), reached as any path is. */
static int make_link(applier *a, int dir, const char *base, const char *target, const char *path,
		     dcfs_error *e)
{
	const char *tbase;
	int tdir = open_parent(a, target, &tbase);
	if (tdir < 0) {
		a->out->skipped++;
		return 0;
	}
	int r = linkat(tdir, tbase, dir, base, 0);
	int err = errno;
	close(tdir);
	if (r < 0 && (err == ENOENT || err == EXDEV || err == EPERM)) {
		a->out->skipped++;
		return 0;
	}
	return r < 0 ? dcfs_error_set(e, err, "cannot link '%s' to '%s': %s", path, target,
				       strerror(err))
		     : 0;
}

static int apply_entry(const dcfs_entry_row *en, void *u, dcfs_error *e)
{
	applier *a = u;
	const char *path = en->path, *target = en->target;
	mode_t mode = (mode_t)en->mode & 07777;
	char t = en->type;
	if (!path || !*path)
		return 0; /* the folder itself */
	const char *base;
	_cleanup_close_ int dir = open_parent(a, path, &base);
	if (dir < 0) { /* below something of the checkout's that is no folder */
		a->out->skipped++;
		return 0;
	}
	struct stat have;
	if (fstatat(dir, base, &have, AT_SYMLINK_NOFOLLOW) == 0) {
		if (t == 'f' && S_ISREG(have.st_mode) && a->replaceable &&
		    a->replaceable(a->folder, path)) {
			int r = replace_file(a, dir, base, en, mode, path, e);
			if (r >= 0)
				a->out->updated++;
			return r;
		}
		if (!(t == 'd' && S_ISDIR(have.st_mode)))
			a->out->skipped++; /* the checkout's own: kept */
		return 0;
	}
	if (errno != ENOENT)
		return dcfs_error_set(e, errno, "cannot look at '%s': %m", path);
	int r = 0;
	switch (t) {
	case 'w':
		return 0; /* deleted in the prebuild, absent here too */
	case 'd':
		if (mkdirat(dir, base, 0700) < 0 ||
		    fchownat(dir, base, a->uid, a->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(dir, base, mode, 0) < 0)
			return dcfs_error_set(e, errno, "cannot create folder '%s': %m", path);
		break;
	case 'f':
		r = make_file(a, dir, base, en, mode, path, e);
		break;
	case 'l':
		if (!target || symlinkat(target, dir, base) < 0 ||
		    fchownat(dir, base, a->uid, a->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return dcfs_error_set(e, errno, "cannot create link '%s': %m", path);
		break;
	case 'h':
		if (!target)
			return dcfs_error_set(e, EIO, "hard link '%s' has no target", path);
		uint64_t before = a->out->skipped;
		r = make_link(a, dir, base, target, path, e);
		if (r < 0 || a->out->skipped != before)
			return r;
		break;
	default: /* device nodes, fifos, sockets: not made in a checkout */
		a->out->skipped++;
		return 0;
	}
	if (r >= 0)
		a->out->added++;
	return r;
}

int dcfs_workspace_layer_apply(dcfs_store *s, int64_t layer_id, const char *folder,
			       dcfs_workspace_replaceable_fn replaceable,
			       dcfs_workspace_apply *out, dcfs_error *e)
{
	*out = (dcfs_workspace_apply){0};
	_cleanup_close_ int root = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (root < 0 || fstat(root, &st) < 0)
		return dcfs_error_set(e, errno, "cannot open '%s': %m", folder);
	applier a = {.s = s, .root = root, .uid = st.st_uid, .gid = st.st_gid, .out = out,
		     .folder = folder, .replaceable = replaceable};
	int r = dcfs_blob_content_init(&a.content, s, e);
	if (r >= 0)
		r = dcfs_entry_each_links_last(s->db, layer_id, apply_entry, &a, e);
	dcfs_blob_content_free(&a.content);
	return r < 0 ? dcfs_error_wrap(e, "bringing the prebuild's workspace into '%s'", folder) : 0;
}
