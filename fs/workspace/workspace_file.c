/* The workspace view's open-file and folder-handle operations: open, create, read, write,
 * flush, release, fsync, flock, fallocate, lseek, copy_file_range, and the readdir family.
 *
 * A file handle is a real descriptor of the host file. With the writeback cache the kernel may
 * read from files opened write-only and handles O_APPEND itself, so write-only opens become
 * read-write and O_APPEND is stripped (as in libfuse's passthrough_hp). Where libfuse has FUSE
 * passthrough (>= 3.17, DCFS_HAVE_PASSTHROUGH) and the kernel accepts it, a regular file opened
 * by a writer, or by a reader when it is big, gets a backing file shared by all open handles of
 * the inode, and reads and writes never reach the daemon (small files' readers are served from
 * the kernel's page cache: see setup_handle); if the kernel refuses one, that inode falls back
 * to plain reads and writes until its last handle closes. A file with set-user-ID or set-group-ID bits gets no backing file: a
 * passthrough write would keep the bits, which a write by a process without CAP_FSETID drops
 * (workspace_mode.c). keep_cache is set when the file is as the kernel last saw it. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "workspace_internal.h"

/* The host open flags for what the caller asked. */
static int host_flags(dcfs_workspace_fs *ws, int flags)
{
	flags &= ~(O_NOFOLLOW | O_DIRECT | O_NOCTTY);
	if (atomic_load(&ws->writeback)) {
		if ((flags & O_ACCMODE) == O_WRONLY)
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		flags &= ~O_APPEND;
	}
	return flags | O_CLOEXEC;
}

/* Fill the open flags and count the handle; sets up passthrough when available. */
static void setup_handle(fuse_req_t req, ws_inode *i, int fd, struct fuse_file_info *fi)
{
	dcfs_workspace_fs *ws = ws_of(req);
	struct stat st;
	bool have_st = fstat(fd, &st) == 0;
	if (fi->flags & O_DIRECT)
		fi->direct_io = 1;
	pthread_mutex_lock(&ws->ilock);
	fi->keep_cache = have_st && ws_kstate_matches(&i->kstate, &st);
#ifdef DCFS_HAVE_PASSTHROUGH
	if (atomic_load(&ws->passthrough) && i->type == S_IFREG) {
		/* A writer's open, and a reader's of a big file: the kernel invalidates a
		 * passthrough file's atime after each read, so the next stat(2) costs a GETATTR
		 * round trip, and every open makes and drops a backing file, which a small file's
		 * reader does not win back (a warm `tar` of 15k small files took twice as long);
		 * it is served from the kernel's page cache, kept across opens. A big file reads
		 * faster from the host's page cache (ext4's large folios). The kernel runs an inode
		 * in one mode at a time, so the first open decides for the handles opened while it
		 * is open. */
		bool writer = (fi->flags & O_ACCMODE) != O_RDONLY;
		bool big = have_st && st.st_size >= WS_PASSTHROUGH_READ_MIN;
		if (i->nopen == 0 && !i->backing_id && !i->no_passthrough) {
			int id = (writer || big) && have_st && !ws_mode_is_privileged(st.st_mode)
					 ? fuse_passthrough_open(req, fd)
					 : 0;
			if (id > 0)
				i->backing_id = id;
			else
				i->no_passthrough = true;
		}
		if (i->backing_id) {
			fi->backing_id = i->backing_id;
			fi->keep_cache = 0;
			fi->direct_io = 0;
		}
	}
#endif
	i->nopen++;
	pthread_mutex_unlock(&ws->ilock);
	/* A read-only handle has no close-time error to report: spare the FLUSH round trip (the
	 * kernel ignores this under the writeback cache, which flushes itself). */
	if ((fi->flags & O_ACCMODE) == O_RDONLY && !atomic_load(&ws->writeback))
		fi->noflush = 1;
	fi->fh = (uint64_t)fd;
}

void ws_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	dcfs_workspace_fs *ws = ws_of(req);
	_cleanup_wsnode_ ws_node n = WS_NODE_INIT;
	long r = ws_node_open(ws, ino, 0, &n);
	if (r < 0)
		return ws_reply_err(req, r);
	if (ws_open_lazy(req, &n, fi))
		return;
	ws_inode *i = n.i;
	const char *proc = n.proc;
	bool trunc = fi->flags & O_TRUNC;
	if (trunc)
		ws_inode_change_begin(ws, i);
	/* as the daemon: the kernel checked the caller's access (default_permissions) */
	int fd = open(proc, host_flags(ws, fi->flags));
	int err = errno;
	struct stat st;
	bool have_st = trunc && fd >= 0 && fstat(fd, &st) == 0;
	bool dropped = have_st && ws_drop_privs(req, fd, &st, true);
	if (trunc) /* the kernel empties its own cache for O_TRUNC */
		ws_inode_change_end(ws, i, have_st ? &st : NULL);
	if (fd < 0)
		return ws_reply_err(req, -err);
	if (dropped) /* the kernel's cached attributes still show the bits (attributes only: takes
		      * no lock the open holds) */
		fuse_lowlevel_notify_inval_inode(ws->se, ino, -1, 0);
	setup_handle(req, i, fd, fi);
	fuse_reply_open(req, fi);
}

void ws_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	dcfs_workspace_fs *ws = ws_of(req);
	_cleanup_wschange_ ws_change n = WS_CHANGE_INIT;
	long r = ws_change_begin(ws, parent, name, &n);
	if (r < 0)
		return ws_reply_err(req, r);
	int flags = host_flags(ws, fi->flags) | O_CREAT;
	mode = ws_create_mode(req, n.p.fd, mode);
	WS_AS_CALLER_FROM(req, r, mode & S_ISGID, openat(n.p.fd, name, flags, mode));
	if (ws_change_failed(req, &n, r))
		return;
	int fd = (int)r;
	struct stat st;
	ws_acct_observe(ws, n.p.fd, n.dir->ino, name, &st);
	struct fuse_entry_param e;
	r = ws_do_lookup(req, n.dir, name, &e);
	if (r < 0) {
		close(fd);
		return ws_reply_err(req, r);
	}
	ws_inode *i = ws_inode_of(ws, e.ino);
	ws_inode_synced(ws, i, &e.attr);
	setup_handle(req, i, fd, fi);
	fuse_reply_create(req, &e, fi);
}

void ws_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	_cleanup_close_ int own = ws_fh_lazy(fi) ? ws_lazy_fd(ws_of(req), ino) : -1;
	if (ws_fh_lazy(fi) && own < 0)
		return ws_reply_err(req, own);
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = own >= 0 ? own : (int)fi->fh;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

/* After the daemon changed a file's data (bracketed by ws_inode_change_begin): record what the
 * kernel now agrees with, count the size, and (with HANDLE_KILLPRIV_V2, for a write,
 * fallocate or copy_file_range by a process) drop suid/sgid as a local one by a process
 * without CAP_FSETID would. */
static void after_data_change(fuse_req_t req, ws_inode *i, int fd, bool kill_priv)
{
	dcfs_workspace_fs *ws = ws_of(req);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		ws_inode_change_end(ws, i, NULL);
		return;
	}
	if (kill_priv)
		ws_drop_privs(req, fd, &st, true);
	ws_inode_change_end(ws, i, &st);
	ws_acct_size(ws, &st);
}

void ws_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in_buf, off_t off,
			 struct fuse_file_info *fi)
{
	dcfs_workspace_fs *ws = ws_of(req);
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in_buf));
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = (int)fi->fh;
	out.buf[0].pos = off;
	ws_inode *i = ws_inode_of(ws, ino);
	ws_inode_change_begin(ws, i);
	ssize_t n = fuse_buf_copy(&out, in_buf, FUSE_BUF_SPLICE_MOVE);
	bool kill = n > 0 && atomic_load(&ws->killpriv_v2) && !fi->writepage;
	after_data_change(req, i, (int)fi->fh, kill);
	if (n < 0)
		return ws_reply_err(req, n);
	fuse_reply_write(req, (size_t)n);
}

void ws_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	/* ENOSYS: the kernel sends no more FLUSH requests (it still writes back its cached
	 * pages at close, and a failure there still reaches the closer) */
	if (ws_of(req)->no_flush) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	if (ws_fh_lazy(fi)) { /* a reader's: nothing written, nothing to report */
		fuse_reply_err(req, 0);
		return;
	}
	/* closing a duplicate reports the host's deferred write errors to the closer */
	int fd = dup((int)fi->fh);
	int r = fd < 0 || close(fd) < 0 ? -errno : 0;
	fuse_reply_err(req, -r);
}

void ws_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	dcfs_workspace_fs *ws = ws_of(req);
	ws_inode *i = ws_inode_of(ws, ino);
	pthread_mutex_lock(&ws->ilock);
	int backing_id = 0;
	assert(i->nopen > 0); /* every handle released was counted when opened */
	if (--i->nopen == 0) {
		backing_id = i->backing_id;
		i->backing_id = 0;
		i->no_passthrough = false;
	}
	pthread_mutex_unlock(&ws->ilock);
#ifdef DCFS_HAVE_PASSTHROUGH
	if (backing_id)
		fuse_passthrough_close(req, backing_id);
#else
	(void)backing_id;
#endif
	if (ws_fh_lazy(fi))
		ws_lazy_release(ws, fi);
	else
		close((int)fi->fh);
	fuse_reply_err(req, 0);
}

void ws_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	_cleanup_close_ int own = ws_fh_lazy(fi) ? ws_lazy_fd(ws_of(req), ino) : -1;
	if (ws_fh_lazy(fi) && own < 0)
		return ws_reply_err(req, own);
	int fd = own >= 0 ? own : (int)fi->fh;
	int r = (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? errno : 0;
	fuse_reply_err(req, r);
}

void ws_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	if (ws_fh_lazy(fi))
		return ws_lazy_flock(req, ino, fi, op);
	fuse_reply_err(req, flock((int)fi->fh, op) < 0 ? errno : 0);
}

void ws_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	dcfs_workspace_fs *ws = ws_of(req);
	ws_inode *i = ws_inode_of(ws, ino);
	ws_inode_change_begin(ws, i);
	int r = fallocate((int)fi->fh, mode, off, len) < 0 ? errno : 0;
	after_data_change(req, i, (int)fi->fh, r == 0 && atomic_load(&ws->killpriv_v2));
	fuse_reply_err(req, r);
}

void ws_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	_cleanup_close_ int own = ws_fh_lazy(fi) ? ws_lazy_fd(ws_of(req), ino) : -1;
	if (ws_fh_lazy(fi) && own < 0)
		return ws_reply_err(req, own);
	off_t r = lseek(own >= 0 ? own : (int)fi->fh, off, whence);
	if (r < 0)
		return ws_reply_err(req, -errno);
	fuse_reply_lseek(req, r);
}

void ws_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			       struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len, int flags)
{
	dcfs_workspace_fs *ws = ws_of(req);
	_cleanup_close_ int own = ws_fh_lazy(fi_in) ? ws_lazy_fd(ws, ino_in) : -1;
	if (ws_fh_lazy(fi_in) && own < 0)
		return ws_reply_err(req, own);
	ws_inode *out = ws_inode_of(ws, ino_out);
	ws_inode_change_begin(ws, out);
	ssize_t n = copy_file_range(own >= 0 ? own : (int)fi_in->fh, &off_in, (int)fi_out->fh,
				    &off_out, len, (unsigned)flags);
	int err = errno;
	after_data_change(req, out, (int)fi_out->fh, n > 0 && atomic_load(&ws->killpriv_v2));
	if (n < 0)
		return ws_reply_err(req, -err);
	fuse_reply_write(req, (size_t)n);
}

/* ---- folders ---- */

typedef struct ws_dirh {
	DIR *dp;
	off_t offset;
	pthread_mutex_t lock; /* readdir calls on one handle are serialized */
} ws_dirh;

void ws_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	dcfs_workspace_fs *ws = ws_of(req);
	_cleanup_wsfd_ ws_fd f = WS_FD_INIT;
	int r = ws_inode_fd(ws, ws_inode_of(ws, ino), &f);
	if (r < 0)
		return ws_reply_err(req, r);
	ws_dirh *d = calloc(1, sizeof(*d));
	if (!d)
		return ws_reply_err(req, -ENOMEM);
	int fd = openat(f.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d->dp = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d->dp) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		free(d);
		return ws_reply_err(req, r);
	}
	pthread_mutex_init(&d->lock, NULL);
	fi->fh = (uint64_t)(uintptr_t)d;
	if (ws->ifd >= 0 && !ws->watch_full) {
		/* the watch invalidates the folder when it changes on the host */
		fi->cache_readdir = 1;
		fi->keep_cache = 1;
	}
	fuse_reply_open(req, fi);
}

static bool is_dot(const char *name)
{
	return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

/* Add one entry to the buffer; returns its size (> rem when it did not fit) or -errno. */
static long add_entry(fuse_req_t req, fuse_ino_t ino, struct dirent *de, char *p, size_t rem,
		      bool plus)
{
	struct fuse_entry_param e = {0};
	e.attr.st_ino = de->d_ino;
	e.attr.st_mode = (mode_t)de->d_type << 12;
	if (!plus)
		return (long)fuse_add_direntry(req, p, rem, de->d_name, &e.attr, de->d_off);
	if (!is_dot(de->d_name)) {
		dcfs_workspace_fs *ws = ws_of(req);
		int r = ws_do_lookup(req, ws_inode_of(ws, ino), de->d_name, &e);
		if (r < 0)
			return r;
	}
	size_t n = fuse_add_direntry_plus(req, p, rem, de->d_name, &e, de->d_off);
	if (n > rem && e.ino)
		ws_inode_unref(ws_of(req), ws_inode_of(ws_of(req), e.ino), 1);
	return (long)n;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	ws_dirh *d = (ws_dirh *)(uintptr_t)fi->fh;
	_cleanup_free_ char *buf = malloc(size);
	if (!buf)
		return ws_reply_err(req, -ENOMEM);
	pthread_mutex_lock(&d->lock);
	if (off != d->offset) {
		seekdir(d->dp, off);
		d->offset = off;
	}
	size_t rem = size;
	long err = 0;
	for (;;) {
		errno = 0;
		long dpos = telldir(d->dp);
		struct dirent *de = readdir(d->dp);
		if (!de) {
			err = -errno;
			break;
		}
		long n = add_entry(req, ino, de, buf + (size - rem), rem, plus);
		if (n == -ENOENT)
			continue; /* gone since readdir saw it */
		if (n < 0 || (size_t)n > rem) {
			seekdir(d->dp, dpos); /* not sent: read it again next time */
			err = n < 0 ? n : 0;
			break;
		}
		rem -= (size_t)n;
		d->offset = de->d_off;
	}
	pthread_mutex_unlock(&d->lock);
	/* an error can only be reported when no entry went out (lookup counts were taken) */
	if (err < 0 && rem == size)
		ws_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, size - rem);
}

void ws_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

void ws_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

void ws_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	ws_dirh *d = (ws_dirh *)(uintptr_t)fi->fh;
	closedir(d->dp);
	pthread_mutex_destroy(&d->lock);
	free(d);
	fuse_reply_err(req, 0);
}

void ws_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	int fd = dirfd(((ws_dirh *)(uintptr_t)fi->fh)->dp);
	int r = (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? errno : 0;
	fuse_reply_err(req, r);
}
