/* A reader's file handle without a host descriptor. A small regular file opened read-only whose
 * pages the kernel already holds (it is as the kernel last saw it: keep_cache) is read from the
 * page cache, so the open makes no host descriptor and the release closes none: a warm `tar` of
 * many small files spends most of its time in those two round trips (measured: 0.65 s -> 0.52 s
 * for 15k files). The handle is WS_FH_LAZY; what does need a descriptor opens one for that call
 * (a READ of a page the kernel dropped, fsync, lseek, copy_file_range), except flock, whose
 * lock belongs to the open file: the first flock on a lazy handle opens a descriptor kept for
 * that handle, found by the kernel's lock owner (the open file) until its release. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "workspace_internal.h"

bool ws_open_lazy(fuse_req_t req, ws_node *n, struct fuse_file_info *fi)
{
	dcfs_workspace_fs *ws = ws_of(req);
	ws_inode *i = n->i;
	struct stat st;
	if ((fi->flags & (O_ACCMODE | O_TRUNC | O_DIRECT)) != O_RDONLY || i->type != S_IFREG ||
	    fstatat(n->f.fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_size >= WS_PASSTHROUGH_READ_MIN)
		return false;
	pthread_mutex_lock(&ws->ilock);
	bool lazy = ws_kstate_matches(&i->kstate, &st) && !i->backing_id;
	if (lazy) {
		/* the kernel runs an inode in one mode: this open keeps it cached (setup_handle) */
		if (i->nopen++ == 0)
			i->no_passthrough = true;
	}
	pthread_mutex_unlock(&ws->ilock);
	if (!lazy)
		return false;
	fi->keep_cache = 1;
	fi->noflush = 1;
	fi->fh = WS_FH_LAZY;
	fuse_reply_open(req, fi);
	return true;
}

int ws_lazy_fd(dcfs_workspace_fs *ws, fuse_ino_t ino)
{
	_cleanup_wsnode_ ws_node n = WS_NODE_INIT;
	long r = ws_node_open(ws, ino, 0, &n);
	if (r < 0)
		return (int)r;
	int fd = open(n.proc, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

typedef struct lazy_flock {
	struct lazy_flock *next;
	uint64_t owner;
	int fd;
} lazy_flock;

void ws_lazy_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	dcfs_workspace_fs *ws = ws_of(req);
	pthread_mutex_lock(&ws->lazy_lock);
	lazy_flock *l = ws->lazy_flocks;
	while (l && l->owner != fi->lock_owner)
		l = l->next;
	if (!l) {
		int fd = ws_lazy_fd(ws, ino);
		l = fd >= 0 ? malloc(sizeof(*l)) : NULL;
		if (!l) {
			pthread_mutex_unlock(&ws->lazy_lock);
			if (fd >= 0)
				close(fd);
			fuse_reply_err(req, fd < 0 ? -fd : ENOMEM);
			return;
		}
		*l = (lazy_flock){.next = ws->lazy_flocks, .owner = fi->lock_owner, .fd = fd};
		ws->lazy_flocks = l;
	}
	int fd = l->fd;
	pthread_mutex_unlock(&ws->lazy_lock);
	/* may block (LOCK_EX without LOCK_NB): outside the lock */
	fuse_reply_err(req, flock(fd, op) < 0 ? errno : 0);
}

void ws_lazy_release(dcfs_workspace_fs *ws, struct fuse_file_info *fi)
{
	if (!fi->flock_release)
		return;
	pthread_mutex_lock(&ws->lazy_lock);
	for (lazy_flock **p = &ws->lazy_flocks; *p; p = &(*p)->next) {
		if ((*p)->owner != fi->lock_owner)
			continue;
		lazy_flock *l = *p;
		*p = l->next;
		close(l->fd); /* drops the lock */
		free(l);
		break;
	}
	pthread_mutex_unlock(&ws->lazy_lock);
}

void ws_lazy_free(dcfs_workspace_fs *ws)
{
	while (ws->lazy_flocks) {
		lazy_flock *l = ws->lazy_flocks;
		ws->lazy_flocks = l->next;
		close(l->fd);
		free(l);
	}
	pthread_mutex_destroy(&ws->lazy_lock);
}
