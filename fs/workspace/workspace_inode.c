/* The workspace view's inode table and the caller's credentials.
 *
 * Inodes are keyed by (st_dev, st_ino) and counted like libfuse's passthrough_ll: each lookup
 * reply takes a reference, FORGET drops them, internal users pin with the same count. Each
 * inode holds an O_PATH descriptor while the descriptor budget lasts, then a file handle that
 * is reopened per operation (open_by_handle_at needs CAP_DAC_READ_SEARCH, so reopen before
 * switching to the caller's credentials).
 *
 * Credentials are switched per thread with the raw setfsuid/setfsgid/setgroups system calls
 * (glibc's setgroups() would change every thread of the daemon). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "workspace_internal.h"

typedef struct inode_key {
	dev_t dev;
	ino_t ino;
} inode_key;

static uint64_t inode_hash(dev_t dev, ino_t ino)
{
	inode_key k = {dev, ino};
	return ws_hash(&k, sizeof(k), 0);
}

static bool inode_eq(const ws_link *l, const void *key)
{
	const ws_inode *i = ws_container_of(l, ws_inode, link);
	const inode_key *k = key;
	return i->dev == k->dev && i->ino == k->ino;
}

void ws_proc_path(int fd, char buf[WS_PROC_PATH_MAX])
{
	snprintf(buf, WS_PROC_PATH_MAX, "/proc/self/fd/%d", fd);
}

ws_inode *ws_inode_of(dcfs_workspace_fs *ws, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &ws->root;
	return (ws_inode *)(uintptr_t)ino;
}

fuse_ino_t ws_nodeid(dcfs_workspace_fs *ws, ws_inode *i)
{
	return i == &ws->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)i;
}

int ws_inode_fd(dcfs_workspace_fs *ws, ws_inode *i, ws_fd *out)
{
	out->owned = false;
	out->fd = i->fd;
	if (i->fd >= 0)
		return 0;
	int fd = open_by_handle_at(ws->mount_fd, i->handle, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ESTALE ? -ENOENT : -errno;
	out->fd = fd;
	out->owned = true;
	return 0;
}

long ws_node_open(dcfs_workspace_fs *ws, fuse_ino_t ino, long link_err, ws_node *n)
{
	n->i = ws_inode_of(ws, ino);
	if (link_err && n->i->type == S_IFLNK)
		return link_err;
	long r = ws_inode_fd(ws, n->i, &n->f);
	if (r >= 0)
		ws_proc_path(n->f.fd, n->proc);
	return r;
}

/* Past the descriptor budget, keep a file handle instead of `fd` (which is then closed). */
static void maybe_use_handle(dcfs_workspace_fs *ws, ws_inode *i)
{
	if (atomic_load(&ws->nfds) < ws->fd_budget || i->dev != ws->dev)
		return;
	struct file_handle *h = malloc(sizeof(*h) + MAX_HANDLE_SZ);
	if (!h)
		return;
	h->handle_bytes = MAX_HANDLE_SZ;
	int mount_id;
	if (name_to_handle_at(i->fd, "", h, &mount_id, AT_EMPTY_PATH) < 0) {
		free(h);
		return;
	}
	i->handle = h;
	close(i->fd);
	i->fd = -1;
}

static ws_inode *inode_new(dcfs_workspace_fs *ws, int fd, const struct stat *st)
{
	ws_inode *i = calloc(1, sizeof(*i));
	if (!i)
		return NULL;
	i->fd = fd;
	i->dev = st->st_dev;
	i->ino = st->st_ino;
	i->type = st->st_mode & S_IFMT;
	i->refs = 1;
	maybe_use_handle(ws, i);
	if (i->fd >= 0)
		atomic_fetch_add(&ws->nfds, 1);
	return i;
}

static void inode_release(dcfs_workspace_fs *ws, ws_inode *i)
{
	if (i->fd >= 0) {
		close(i->fd);
		atomic_fetch_sub(&ws->nfds, 1);
	}
	free(i->handle);
	free(i);
}

/* Is the table's entry a host file that was deleted (its inode number now names another)? */
static bool inode_stale(dcfs_workspace_fs *ws, ws_inode *i)
{
	_cleanup_wsfd_ ws_fd f = WS_FD_INIT;
	if (ws_inode_fd(ws, i, &f) < 0)
		return true;
	struct stat st;
	return fstat(f.fd, &st) < 0 || st.st_nlink == 0;
}

int ws_inode_get(dcfs_workspace_fs *ws, int fd, const struct stat *st, ws_inode **out,
		 bool *created)
{
	inode_key k = {st->st_dev, st->st_ino};
	uint64_t h = inode_hash(k.dev, k.ino);
	pthread_mutex_lock(&ws->ilock);
	ws_link *l = ws_table_find(&ws->inodes, h, inode_eq, &k);
	ws_inode *i = l ? ws_container_of(l, ws_inode, link) : NULL;
	if (i && inode_stale(ws, i)) {
		ws_table_remove(&ws->inodes, &i->link);
		i->hashed = false; /* lives on until the kernel forgets it */
		i = NULL;
	}
	if (i) {
		i->refs++;
		pthread_mutex_unlock(&ws->ilock);
		close(fd);
		*created = false;
		*out = i;
		return 0;
	}
	i = inode_new(ws, fd, st);
	if (!i || ws_table_insert(&ws->inodes, &i->link, h) < 0) {
		pthread_mutex_unlock(&ws->ilock);
		if (i)
			inode_release(ws, i);
		else
			close(fd);
		return -ENOMEM;
	}
	i->hashed = true;
	pthread_mutex_unlock(&ws->ilock);
	*created = true;
	*out = i;
	return 0;
}

void ws_inode_unref(dcfs_workspace_fs *ws, ws_inode *i, uint64_t n)
{
	if (i == &ws->root)
		return;
	pthread_mutex_lock(&ws->ilock);
	assert(n <= i->refs); /* the kernel forgets no more lookups than it made */
	i->refs -= n;
	bool gone = i->refs == 0;
	if (gone && i->hashed)
		ws_table_remove(&ws->inodes, &i->link);
	pthread_mutex_unlock(&ws->ilock);
	if (gone)
		inode_release(ws, i);
}

static void set_kstate(ws_inode *i, const struct stat *st)
{
	i->kstate.ctime = st->st_ctim;
	i->kstate.size = st->st_size;
}

void ws_inode_synced(dcfs_workspace_fs *ws, ws_inode *i, const struct stat *st)
{
	pthread_mutex_lock(&ws->ilock);
	set_kstate(i, st);
	pthread_mutex_unlock(&ws->ilock);
}

void ws_inode_change_begin(dcfs_workspace_fs *ws, ws_inode *i)
{
	pthread_mutex_lock(&ws->ilock);
	i->changing++;
	pthread_mutex_unlock(&ws->ilock);
}

void ws_inode_change_end(dcfs_workspace_fs *ws, ws_inode *i, const struct stat *st)
{
	pthread_mutex_lock(&ws->ilock);
	if (st)
		set_kstate(i, st);
	assert(i->changing > 0);
	i->changing--;
	pthread_mutex_unlock(&ws->ilock);
}

bool ws_kstate_matches(const ws_kstate *ks, const struct stat *st)
{
	return ks->ctime.tv_sec == st->st_ctim.tv_sec && ks->ctime.tv_nsec == st->st_ctim.tv_nsec &&
	       ks->size == st->st_size;
}

/* ws->ilock held */
static ws_inode *find_locked(dcfs_workspace_fs *ws, dev_t dev, ino_t ino)
{
	if (dev == ws->root.dev && ino == ws->root.ino)
		return &ws->root;
	inode_key k = {dev, ino};
	ws_link *l = ws_table_find(&ws->inodes, inode_hash(dev, ino), inode_eq, &k);
	return l ? ws_container_of(l, ws_inode, link) : NULL;
}

fuse_ino_t ws_inode_find(dcfs_workspace_fs *ws, dev_t dev, ino_t ino)
{
	pthread_mutex_lock(&ws->ilock);
	ws_inode *i = find_locked(ws, dev, ino);
	fuse_ino_t id = i ? ws_nodeid(ws, i) : 0;
	pthread_mutex_unlock(&ws->ilock);
	return id;
}

int ws_inode_check(dcfs_workspace_fs *ws, const struct stat *st, fuse_ino_t *id)
{
	int r = 0;
	pthread_mutex_lock(&ws->ilock);
	ws_inode *i = find_locked(ws, st->st_dev, st->st_ino);
	if (i && i->changing) {
		r = -EBUSY;
	} else if (i && !ws_kstate_matches(&i->kstate, st)) {
		set_kstate(i, st);
		*id = ws_nodeid(ws, i);
		r = 1;
	}
	pthread_mutex_unlock(&ws->ilock);
	return r;
}

typedef struct collect {
	fuse_ino_t *ids;
	size_t n;
} collect;

static void collect_one(ws_link *l, void *arg)
{
	collect *c = arg;
	c->ids[c->n++] = (fuse_ino_t)(uintptr_t)ws_container_of(l, ws_inode, link);
}

size_t ws_inode_all(dcfs_workspace_fs *ws, fuse_ino_t **out)
{
	pthread_mutex_lock(&ws->ilock);
	collect c = {malloc((ws->inodes.count + 1) * sizeof(fuse_ino_t)), 0};
	if (c.ids) {
		c.ids[c.n++] = FUSE_ROOT_ID;
		ws_table_each(&ws->inodes, collect_one, &c);
	}
	pthread_mutex_unlock(&ws->ilock);
	*out = c.ids;
	return c.n;
}

static void release_one(ws_link *l, void *arg)
{
	ws_inode *i = ws_container_of(l, ws_inode, link);
	inode_release(arg, i);
}

void ws_inode_free_all(dcfs_workspace_fs *ws)
{
	/* Unhashed (stale) inodes still referenced by a dead kernel connection leak here; the
	 * process is about to exit. */
	ws_table_each(&ws->inodes, release_one, ws);
	ws_table_free(&ws->inodes);
}

/* ---- credentials ---- */

static long set_fsuid(uid_t uid)
{
	return syscall(SYS_setfsuid, uid);
}

static long set_fsgid(gid_t gid)
{
	return syscall(SYS_setfsgid, gid);
}

static void caller_groups(fuse_req_t req, const struct fuse_ctx *ctx)
{
	gid_t groups[64];
	int n = fuse_req_getgroups(req, (int)ELEMENTSOF(groups), groups);
	if (n < 0)
		n = 0; /* the caller is gone or /proc is not readable: primary group only */
	if (n > (int)ELEMENTSOF(groups))
		n = (int)ELEMENTSOF(groups);
	if (syscall(SYS_setgroups, n, groups) < 0) {
		gid_t g = ctx->gid;
		syscall(SYS_setgroups, 1, &g);
	}
}

int ws_creds_enter(fuse_req_t req, ws_creds *c, bool with_groups)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	c->ws = ws_of(req);
	c->switched = false;
	if (ctx->uid == c->ws->uid && ctx->gid == c->ws->gid)
		return 0;
	if (c->ws->uid != 0)
		return 0; /* an unprivileged daemon cannot switch: the host checks its own identity */
	c->switched = true;
	if (with_groups)
		caller_groups(req, ctx);
	else
		syscall(SYS_setgroups, 0, NULL);
	set_fsgid(ctx->gid);
	set_fsuid(ctx->uid);
	/* setfsuid reports no errors: read the value back */
	if ((uid_t)set_fsuid((uid_t)-1) != ctx->uid || (gid_t)set_fsgid((gid_t)-1) != ctx->gid) {
		ws_creds_leave(c);
		return -EPERM;
	}
	return 0;
}

void ws_creds_leave(ws_creds *c)
{
	if (!c->switched)
		return;
	set_fsuid(c->ws->uid); /* first: brings the file-system capabilities back */
	set_fsgid(c->ws->gid);
	syscall(SYS_setgroups, c->ws->ngroups, c->ws->groups);
	c->switched = false;
}
