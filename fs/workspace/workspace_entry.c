/* The workspace view's name and attribute operations: lookup, forget, getattr, setattr,
 * readlink, mknod, mkdir, symlink, link, unlink, rmdir, rename, statfs and the xattr calls.
 *
 * Each one passes through to the host with the *at() system calls on the inode's O_PATH
 * descriptor; those that create or modify run with the caller's credentials (WS_AS_CALLER).
 * Before changing a name the handler tells the watcher to expect the event it will cause, and
 * after it updates the accounting, so the inotify thread neither invalidates the kernel's fresh
 * entry nor counts the change twice. Every failure ends in fuse_reply_err(req, errno). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "workspace_internal.h"

void ws_reply_err(fuse_req_t req, long r)
{
	fuse_reply_err(req, (int)(r < 0 ? -r : r));
}

long ws_change_begin(dcfs_workspace_fs *ws, fuse_ino_t parent, const char *name, ws_change *n)
{
	n->dir = ws_inode_of(ws, parent);
	n->name = name;
	long r = ws_inode_fd(ws, n->dir, &n->p);
	if (r >= 0)
		ws_watch_expect(ws, n->dir, name, 1);
	return r;
}

bool ws_change_failed(fuse_req_t req, const ws_change *n, long r)
{
	if (r >= 0)
		return false;
	ws_watch_expect(ws_of(req), n->dir, n->name, -1);
	ws_reply_err(req, r);
	return true;
}

int ws_do_lookup(fuse_req_t req, ws_inode *parent, const char *name, struct fuse_entry_param *e)
{
	dcfs_workspace_fs *ws = ws_of(req);
	memset(e, 0, sizeof(*e));
	e->attr_timeout = e->entry_timeout = ws->timeout;
	_cleanup_wsfd_ ws_fd p = WS_FD_INIT;
	int r = ws_inode_fd(ws, parent, &p);
	if (r < 0)
		return r;
	int fd = openat(p.fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatat(fd, "", &e->attr, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	ws_inode *i;
	bool created;
	r = ws_inode_get(ws, fd, &e->attr, &i, &created);
	if (r < 0)
		return r;
	if (created && S_ISDIR(e->attr.st_mode)) {
		_cleanup_wsfd_ ws_fd f = WS_FD_INIT;
		if (ws_inode_fd(ws, i, &f) == 0)
			ws_watch_add(ws, f.fd);
	}
	ws_inode_synced(ws, i, &e->attr); /* the kernel is about to get these attributes */
	e->ino = ws_nodeid(ws, i);
	return 0;
}

void ws_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	dcfs_workspace_fs *ws = ws_of(req);
	struct fuse_entry_param e;
	int r = ws_do_lookup(req, ws_inode_of(ws, parent), name, &e);
	if (r == -ENOENT && ws->ifd >= 0 && !ws->watch_full) {
		/* a negative entry: the watch on the folder drops it when the name appears */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = ws->timeout;
		fuse_reply_entry(req, &e);
	} else if (r < 0) {
		ws_reply_err(req, r);
	} else {
		fuse_reply_entry(req, &e);
	}
}

void ws_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	dcfs_workspace_fs *ws = ws_of(req);
	ws_inode_unref(ws, ws_inode_of(ws, ino), nlookup);
	fuse_reply_none(req);
}

void ws_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	dcfs_workspace_fs *ws = ws_of(req);
	for (size_t n = 0; n < count; n++)
		ws_inode_unref(ws, ws_inode_of(ws, forgets[n].ino), forgets[n].nlookup);
	fuse_reply_none(req);
}

static int stat_inode(dcfs_workspace_fs *ws, ws_inode *i, struct fuse_file_info *fi,
		      struct stat *st)
{
	if (fi && i->type == S_IFREG && !ws_fh_lazy(fi))
		return fstat((int)fi->fh, st) < 0 ? -errno : 0;
	_cleanup_wsfd_ ws_fd f = WS_FD_INIT;
	int r = ws_inode_fd(ws, i, &f);
	if (r < 0)
		return r;
	return fstatat(f.fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* Every inode's attributes are cached as long (the root's too: with default_permissions every
 * path walk checks the root, and a dead daemon is recognised with statfs, which is never
 * cached). */
static double attr_timeout(dcfs_workspace_fs *ws, fuse_ino_t ino)
{
	(void)ino;
	return ws->timeout;
}

void ws_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	dcfs_workspace_fs *ws = ws_of(req);
	ws_inode *i = ws_inode_of(ws, ino);
	struct stat st;
	int r = stat_inode(ws, i, fi, &st);
	if (r < 0)
		return ws_reply_err(req, r);
	ws_inode_synced(ws, i, &st);
	fuse_reply_attr(req, &st, attr_timeout(ws, ino));
}

static void set_times(const struct stat *attr, int valid, struct timespec tv[2])
{
	tv[0].tv_sec = tv[1].tv_sec = 0;
	tv[0].tv_nsec = tv[1].tv_nsec = UTIME_OMIT;
	if (valid & FUSE_SET_ATTR_ATIME_NOW)
		tv[0].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_ATIME)
		tv[0] = attr->st_atim;
	if (valid & FUSE_SET_ATTR_MTIME_NOW)
		tv[1].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_MTIME)
		tv[1] = attr->st_mtim;
}

/* Change the mode as the caller (with its groups when it sets the set-group-ID bit, which the
 * host would drop for a non-member), or as the daemon when the change only drops
 * set-user-ID/set-group-ID bits: the kernel's own change before a write or truncate, by a
 * writer that may not own the file (the kernel checked every other chmod against the owner:
 * default_permissions). 0 or -errno. */
static long change_mode(fuse_req_t req, int fd, const char *proc, mode_t mode,
			struct fuse_file_info *fi)
{
	long res;
	WS_AS_CALLER_FROM(req, res, mode & S_ISGID,
			  fi ? fchmod((int)fi->fh, mode) : chmod(proc, mode));
	if (res == -EPERM && ws_mode_drops_privs_only(fd, mode))
		res = (fi ? fchmod((int)fi->fh, mode) : chmod(proc, mode)) < 0 ? -errno : 0;
	return res;
}

static int put_times(int fd, struct fuse_file_info *fi, const struct timespec tv[2])
{
	return fi ? futimens((int)fi->fh, tv)
		  : utimensat(fd, "", tv, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
}

/* Apply the attribute changes one by one, as the caller; 0 or -errno. */
static long apply_attrs(fuse_req_t req, int fd, const struct stat *attr, int valid,
			struct fuse_file_info *fi)
{
	char proc[WS_PROC_PATH_MAX];
	ws_proc_path(fd, proc);
	long res = 0;
	if (valid & FUSE_SET_ATTR_MODE)
		res = change_mode(req, fd, proc, attr->st_mode, fi);
	if (res >= 0 && (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
		uid_t uid = (valid & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid = (valid & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;
		WS_AS_CALLER(req, res,
			     fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
	}
	if (res >= 0 && (valid & FUSE_SET_ATTR_SIZE))
		WS_AS_CALLER(req, res,
			     fi ? ftruncate((int)fi->fh, attr->st_size)
				: truncate(proc, attr->st_size));
	struct stat st;
	/* with HANDLE_KILLPRIV_V2: a truncate by a process without CAP_FSETID */
	if (res >= 0 && (valid & FUSE_SET_ATTR_KILL_SUID) && fstat(fd, &st) == 0)
		ws_drop_privs(req, fi ? (int)fi->fh : fd, &st, false);
	if (res >= 0 && (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		struct timespec tv[2];
		set_times(attr, valid, tv);
		/* With the writeback cache the kernel keeps mtime and ctime itself and sends them
		 * as explicit times after a write by any writer, which only the owner may set: as
		 * the daemon then (the kernel checked a utimes() call against the owner or the
		 * write permission: default_permissions). */
		if (atomic_load(&ws_of(req)->writeback))
			res = put_times(fd, fi, tv) < 0 ? -errno : 0;
		else
			WS_AS_CALLER(req, res, put_times(fd, fi, tv));
	}
	return res;
}

void ws_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		       struct fuse_file_info *fi)
{
	dcfs_workspace_fs *ws = ws_of(req);
	ws_inode *i = ws_inode_of(ws, ino);
	_cleanup_wsfd_ ws_fd f = WS_FD_INIT;
	long r = ws_inode_fd(ws, i, &f);
	if (fi && (i->type != S_IFREG || ws_fh_lazy(fi)))
		fi = NULL; /* through the inode's /proc path: a lazy handle has no descriptor */
	if (r < 0)
		return ws_reply_err(req, r);
	ws_inode_change_begin(ws, i);
	r = apply_attrs(req, f.fd, attr, valid, fi);
	struct stat st;
	if (r >= 0)
		r = fstatat(f.fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	ws_inode_change_end(ws, i, r >= 0 ? &st : NULL);
	if (r < 0)
		return ws_reply_err(req, r);
	if (valid & FUSE_SET_ATTR_SIZE)
		ws_acct_size(ws, &st);
	fuse_reply_attr(req, &st, attr_timeout(ws, ino));
}

void ws_readlink(fuse_req_t req, fuse_ino_t ino)
{
	dcfs_workspace_fs *ws = ws_of(req);
	_cleanup_wsfd_ ws_fd f = WS_FD_INIT;
	int r = ws_inode_fd(ws, ws_inode_of(ws, ino), &f);
	if (r < 0)
		return ws_reply_err(req, r);
	char buf[PATH_MAX + 1];
	ssize_t n = readlinkat(f.fd, "", buf, sizeof(buf));
	if (n < 0)
		return ws_reply_err(req, -errno);
	if (n == (ssize_t)sizeof(buf))
		return ws_reply_err(req, -ENAMETOOLONG);
	buf[n] = '\0';
	fuse_reply_readlink(req, buf);
}

/* After a name was made in `dir`: count it and reply with its entry. */
static void reply_new_entry(fuse_req_t req, ws_inode *dir, int dirfd, const char *name)
{
	dcfs_workspace_fs *ws = ws_of(req);
	struct stat st;
	ws_acct_observe(ws, dirfd, dir->ino, name, &st);
	struct fuse_entry_param e;
	int r = ws_do_lookup(req, dir, name, &e);
	if (r < 0)
		return ws_reply_err(req, r);
	fuse_reply_entry(req, &e);
}

static void make_node(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev,
		      const char *link)
{
	_cleanup_wschange_ ws_change n = WS_CHANGE_INIT;
	long r = ws_change_begin(ws_of(req), parent, name, &n);
	if (r < 0)
		return ws_reply_err(req, r);
	int dirfd = n.p.fd;
	if (!S_ISLNK(mode))
		mode = ws_create_mode(req, dirfd, mode);
	if (S_ISDIR(mode))
		WS_AS_CALLER(req, r, mkdirat(dirfd, name, mode & 07777));
	else if (S_ISLNK(mode))
		WS_AS_CALLER(req, r, symlinkat(link, dirfd, name));
	else
		WS_AS_CALLER_FROM(req, r, mode & S_ISGID, mknodat(dirfd, name, mode, rdev));
	if (!ws_change_failed(req, &n, r))
		reply_new_entry(req, n.dir, dirfd, name);
}

void ws_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	make_node(req, parent, name, mode, rdev, NULL);
}

void ws_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make_node(req, parent, name, S_IFDIR | mode, 0, NULL);
}

void ws_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	make_node(req, parent, name, S_IFLNK, 0, link);
}

void ws_hardlink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name)
{
	dcfs_workspace_fs *ws = ws_of(req);
	_cleanup_wsfd_ ws_fd f = WS_FD_INIT;
	_cleanup_wschange_ ws_change n = WS_CHANGE_INIT;
	long r = ws_inode_fd(ws, ws_inode_of(ws, ino), &f);
	if (r >= 0)
		r = ws_change_begin(ws, parent, name, &n);
	if (r < 0)
		return ws_reply_err(req, r);
	/* as the daemon: AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH and links symlinks too; the
	 * kernel already checked the caller (may_linkat), and a link changes no owner */
	r = linkat(f.fd, "", n.p.fd, name, AT_EMPTY_PATH) < 0 ? -errno : 0;
	if (!ws_change_failed(req, &n, r))
		reply_new_entry(req, n.dir, n.p.fd, name);
}

static void remove_name(fuse_req_t req, fuse_ino_t parent, const char *name, int flags)
{
	dcfs_workspace_fs *ws = ws_of(req);
	_cleanup_wschange_ ws_change n = WS_CHANGE_INIT;
	long r = ws_change_begin(ws, parent, name, &n);
	if (r < 0)
		return ws_reply_err(req, r);
	WS_AS_CALLER(req, r, unlinkat(n.p.fd, name, flags));
	if (ws_change_failed(req, &n, r))
		return;
	if (!(flags & AT_REMOVEDIR))
		ws_acct_forget(ws, n.dir->ino, name);
	fuse_reply_err(req, 0);
}

void ws_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, 0);
}

void ws_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, AT_REMOVEDIR);
}

void ws_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	dcfs_workspace_fs *ws = ws_of(req);
	_cleanup_wschange_ ws_change from = WS_CHANGE_INIT, to = WS_CHANGE_INIT;
	long r = ws_change_begin(ws, parent, name, &from);
	if (r < 0)
		return ws_reply_err(req, r);
	r = ws_change_begin(ws, newparent, newname, &to);
	if (ws_change_failed(req, &from, r))
		return;
	WS_AS_CALLER(req, r, renameat2(from.p.fd, name, to.p.fd, newname, flags));
	if (r < 0) {
		ws_watch_expect(ws, to.dir, newname, -1);
		ws_change_failed(req, &from, r);
		return;
	}
	ws_acct_rename(ws, from.p.fd, from.dir->ino, name, to.p.fd, to.dir->ino, newname,
		       (flags & RENAME_EXCHANGE) != 0);
	fuse_reply_err(req, 0);
}

void ws_statfs(fuse_req_t req, fuse_ino_t ino)
{
	dcfs_workspace_fs *ws = ws_of(req);
	_cleanup_wsfd_ ws_fd f = WS_FD_INIT;
	int r = ws_inode_fd(ws, ws_inode_of(ws, ino), &f);
	struct statvfs sv;
	if (r >= 0)
		r = fstatvfs(f.fd, &sv) < 0 ? -errno : 0;
	if (r < 0)
		return ws_reply_err(req, r);
	fuse_reply_statfs(req, &sv);
}

/* getxattr and listxattr: both reply with the size when `size` is 0, else the data. */
static void reply_xattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	dcfs_workspace_fs *ws = ws_of(req);
	_cleanup_wsnode_ ws_node node = WS_NODE_INIT;
	long r = ws_node_open(ws, ino, -ENODATA, &node);
	if (r == -ENODATA && !name && node.i->type == S_IFLNK) /* a link has no xattrs to list */
		return (void)fuse_reply_xattr(req, 0);
	if (r < 0)
		return ws_reply_err(req, r);
	const char *proc = node.proc;
	_cleanup_free_ char *buf = size ? malloc(size) : NULL;
	if (size && !buf)
		return ws_reply_err(req, -ENOMEM);
	ssize_t n = name ? getxattr(proc, name, buf, size) : listxattr(proc, buf, size);
	if (n < 0 && errno == EOPNOTSUPP && name && ws_is_acl_name(ws, name))
		errno = ENODATA; /* a mount inside the folder without ACLs: the kernel's checks
				  * would fail, where the host's find no ACL */
	if (n < 0)
		ws_reply_err(req, -errno);
	else if (size)
		fuse_reply_buf(req, buf, (size_t)n);
	else
		fuse_reply_xattr(req, (size_t)n);
}

void ws_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	reply_xattr(req, ino, name, size);
}

void ws_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	reply_xattr(req, ino, NULL, size);
}

/* setxattr (value != NULL) and removexattr, as the caller. */
static void change_xattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			 size_t size, int flags)
{
	dcfs_workspace_fs *ws = ws_of(req);
	_cleanup_wsnode_ ws_node n = WS_NODE_INIT;
	long r = ws_node_open(ws, ino, -EPERM, &n);
	if (r < 0)
		return ws_reply_err(req, r);
	ws_inode *i = n.i;
	const char *proc = n.proc;
	ws_inode_change_begin(ws, i);
	/* setting an access ACL updates the mode, and drops the set-group-ID bit for a
	 * non-member of the file's group: with the caller's groups */
	bool groups = strcmp(name, "system.posix_acl_access") == 0;
	if (value)
		WS_AS_CALLER_FROM(req, r, groups, setxattr(proc, name, value, size, flags));
	else
		WS_AS_CALLER(req, r, removexattr(proc, name));
	struct stat st;
	ws_inode_change_end(ws, i, r >= 0 && fstat(n.f.fd, &st) == 0 ? &st : NULL);
	fuse_reply_err(req, r < 0 ? (int)-r : 0);
}

void ws_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	change_xattr(req, ino, name, value ? value : "", size, flags);
}

void ws_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	change_xattr(req, ino, name, NULL, 0, 0);
}
