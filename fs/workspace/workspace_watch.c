/* The workspace view's inotify thread: keeps the kernel's caches honest when the host folder
 * changes behind the daemon's back, and feeds the accounting.
 *
 * Every folder carries a watch. A folder is remembered by its file handle (or an O_PATH
 * descriptor when the file system has no handles) so that an event can be resolved without a
 * path. For each event the thread updates the counts (ws_acct_*), then, if the kernel knows the
 * folder or file and the change was not the daemon's own, sends
 * fuse_lowlevel_notify_inval_entry / _inval_inode. Notifications go out with no lock held, and
 * only from this thread, never from a request handler, so they cannot deadlock against a
 * handler the kernel is waiting for.
 *
 * The daemon's own entry changes are announced beforehand (ws_watch_expect) and skipped when
 * their event arrives (expectations older than two seconds are ignored); its own data and
 * attribute changes are recognised by the file's ctime and size matching the inode's kstate.
 * An inotify queue overflow, or a folder moved out of the workspace, triggers a full walk and
 * an invalidation of every inode the kernel knows. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "daemon_log.h"
#include "workspace_internal.h"

#define WATCH_MASK                                                                                 \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_ATTRIB |             \
	 IN_CLOSE_WRITE | IN_DELETE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)
#define EXPECT_TTL_NS 2000000000LL
#define EXPECT_MAX 4096
#define CHANGE_WAIT_MS 50

typedef struct ws_dir {
	ws_link link; /* ws->dirs, by wd */
	int wd;
	dev_t dev;
	ino_t ino;
	struct file_handle *handle; /* NULL: `fd` is kept instead */
	int fd;
	unsigned gen;
} ws_dir;

typedef struct ws_expect {
	ws_link link; /* ws->expect, by (dev, dir, name) */
	dev_t dev;
	ino_t dir;
	unsigned count;
	int64_t when; /* CLOCK_MONOTONIC ns of the latest announcement */
	char name[];
} ws_expect;

typedef struct expect_key {
	dev_t dev;
	ino_t dir;
	const char *name;
} expect_key;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool dir_eq(const ws_link *l, const void *key)
{
	return ws_container_of(l, ws_dir, link)->wd == *(const int *)key;
}

static uint64_t wd_hash(int wd)
{
	return ws_hash(&wd, sizeof(wd), 1);
}

static uint64_t expect_hash(dev_t dev, ino_t dir, const char *name)
{
	uint64_t h = ws_hash(&dir, sizeof(dir), dev);
	return ws_hash(name, strlen(name), h);
}

static bool expect_eq(const ws_link *l, const void *key)
{
	const ws_expect *x = ws_container_of(l, ws_expect, link);
	const expect_key *k = key;
	return x->dev == k->dev && x->dir == k->dir && !strcmp(x->name, k->name);
}

static void dir_free(ws_dir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	free(d->handle);
	free(d);
}

/* ---- watches ---- */

static ws_dir *dir_new(dcfs_workspace_fs *ws, int fd, int wd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return NULL;
	ws_dir *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->wd = wd;
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->fd = -1;
	d->handle = malloc(sizeof(*d->handle) + MAX_HANDLE_SZ);
	int mount_id;
	if (d->handle && st.st_dev == ws->dev) {
		d->handle->handle_bytes = MAX_HANDLE_SZ;
		if (name_to_handle_at(fd, "", d->handle, &mount_id, AT_EMPTY_PATH) == 0)
			return d;
	}
	free(d->handle);
	d->handle = NULL;
	d->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d->fd < 0) {
		free(d);
		return NULL;
	}
	return d;
}

void ws_watch_add(dcfs_workspace_fs *ws, int fd)
{
	if (ws->ifd < 0)
		return;
	char proc[WS_PROC_PATH_MAX];
	ws_proc_path(fd, proc);
	int wd = inotify_add_watch(ws->ifd, proc, WATCH_MASK);
	if (wd < 0) {
		if (errno == ENOSPC && !ws->watch_full) {
			ws->watch_full = true;
			dcfs_daemon_log(FUSE_LOG_WARNING,
					"workspace: out of inotify watches "
					"(fs.inotify.max_user_watches): host-side changes may "
					"show late");
		}
		return;
	}
	pthread_mutex_lock(&ws->wlock);
	ws_link *l = ws_table_find(&ws->dirs, wd_hash(wd), dir_eq, &wd);
	if (l) {
		ws_container_of(l, ws_dir, link)->gen = ws->wgen;
	} else {
		ws_dir *d = dir_new(ws, fd, wd);
		if (d && ws_table_insert(&ws->dirs, &d->link, wd_hash(wd)) == 0)
			d->gen = ws->wgen;
		else if (d)
			dir_free(d);
	}
	pthread_mutex_unlock(&ws->wlock);
}

unsigned ws_watch_sweep_begin(dcfs_workspace_fs *ws)
{
	pthread_mutex_lock(&ws->wlock);
	unsigned gen = ++ws->wgen;
	pthread_mutex_unlock(&ws->wlock);
	return gen;
}

typedef struct sweep {
	dcfs_workspace_fs *ws;
	unsigned gen;
} sweep;

static void sweep_one(ws_link *l, void *arg)
{
	sweep *s = arg;
	ws_dir *d = ws_container_of(l, ws_dir, link);
	if (d->gen == s->gen)
		return;
	/* no longer in the workspace: its IN_IGNORED finds no record, which is fine */
	inotify_rm_watch(s->ws->ifd, d->wd);
	ws_table_remove(&s->ws->dirs, l);
	dir_free(d);
}

void ws_watch_sweep_end(dcfs_workspace_fs *ws, unsigned gen)
{
	pthread_mutex_lock(&ws->wlock);
	sweep s = {ws, gen};
	ws_table_each(&ws->dirs, sweep_one, &s);
	pthread_mutex_unlock(&ws->wlock);
}

/* ---- expected events ---- */

static void expect_prune_one(ws_link *l, void *arg)
{
	dcfs_workspace_fs *ws = ((void **)arg)[0];
	int64_t now = *(int64_t *)((void **)arg)[1];
	ws_expect *x = ws_container_of(l, ws_expect, link);
	if (now - x->when > EXPECT_TTL_NS) {
		ws_table_remove(&ws->expect, l);
		free(x);
	}
}

void ws_watch_expect(dcfs_workspace_fs *ws, const ws_inode *dir, const char *name, int delta)
{
	if (ws->ifd < 0)
		return;
	expect_key k = {dir->dev, dir->ino, name};
	uint64_t h = expect_hash(k.dev, k.dir, name);
	int64_t now = now_ns();
	pthread_mutex_lock(&ws->wlock);
	ws_link *l = ws_table_find(&ws->expect, h, expect_eq, &k);
	ws_expect *x = l ? ws_container_of(l, ws_expect, link) : NULL;
	if (x && delta < 0 && x->count <= 1) {
		ws_table_remove(&ws->expect, l);
		free(x);
	} else if (x) {
		x->count += (unsigned)delta;
		x->when = now;
	} else if (delta > 0 && (x = malloc(sizeof(*x) + strlen(name) + 1))) {
		*x = (ws_expect){.dev = k.dev, .dir = k.dir, .count = 1, .when = now};
		strcpy(x->name, name);
		if (ws_table_insert(&ws->expect, &x->link, h) < 0)
			free(x);
	}
	if (ws->expect.count > EXPECT_MAX) {
		void *arg[2] = {ws, &now};
		ws_table_each(&ws->expect, expect_prune_one, arg);
	}
	pthread_mutex_unlock(&ws->wlock);
}

/* Was an event for (dir, name) announced by the daemon? Consumes one announcement. */
static bool expected(dcfs_workspace_fs *ws, dev_t dev, ino_t dir, const char *name)
{
	expect_key k = {dev, dir, name};
	pthread_mutex_lock(&ws->wlock);
	ws_link *l = ws_table_find(&ws->expect, expect_hash(dev, dir, name), expect_eq, &k);
	ws_expect *x = l ? ws_container_of(l, ws_expect, link) : NULL;
	bool fresh = x && now_ns() - x->when <= EXPECT_TTL_NS;
	if (x && (!fresh || --x->count == 0)) {
		ws_table_remove(&ws->expect, l);
		free(x);
	}
	pthread_mutex_unlock(&ws->wlock);
	return fresh;
}

/* ---- events ---- */

static void inval_inode(dcfs_workspace_fs *ws, fuse_ino_t ino)
{
	if (!atomic_load(&ws->watch_quit))
		fuse_lowlevel_notify_inval_inode(ws->se, ino, 0, 0);
}

static void inval_entry(dcfs_workspace_fs *ws, fuse_ino_t parent, const char *name)
{
	if (!atomic_load(&ws->watch_quit))
		fuse_lowlevel_notify_inval_entry(ws->se, parent, name, strlen(name));
}

typedef struct batch {
	const char *buf, *end;
	int wd, dirfd; /* the last folder opened, reused across its events */
	bool rescan;
} batch;

/* The folder of watch `wd` as (dev, ino) and an open descriptor; false when unknown. */
static bool event_dir(dcfs_workspace_fs *ws, batch *b, const struct inotify_event *ev, dev_t *dev,
		      ino_t *ino)
{
	pthread_mutex_lock(&ws->wlock);
	ws_link *l = ws_table_find(&ws->dirs, wd_hash(ev->wd), dir_eq, &ev->wd);
	ws_dir *d = l ? ws_container_of(l, ws_dir, link) : NULL;
	if (d && (ev->mask & IN_IGNORED)) {
		ws_table_remove(&ws->dirs, l);
		dir_free(d);
		d = NULL;
	}
	int fd = -1;
	if (d) {
		*dev = d->dev;
		*ino = d->ino;
		if (b->wd != ev->wd)
			fd = d->handle ? open_by_handle_at(ws->mount_fd, d->handle,
							   O_PATH | O_CLOEXEC)
				       : fcntl(d->fd, F_DUPFD_CLOEXEC, 0);
	}
	pthread_mutex_unlock(&ws->wlock);
	if (!d)
		return false;
	if (b->wd != ev->wd) {
		if (b->dirfd >= 0)
			close(b->dirfd);
		b->dirfd = fd;
		b->wd = fd >= 0 ? ev->wd : -1;
	}
	return b->dirfd >= 0;
}

/* Is there an IN_MOVED_TO with the same cookie later in the batch? */
static bool move_paired(const batch *b, const struct inotify_event *from)
{
	const char *p = (const char *)from + sizeof(*from) + from->len;
	while (p < b->end) {
		const struct inotify_event *ev = (const void *)p;
		if ((ev->mask & IN_MOVED_TO) && ev->cookie == from->cookie)
			return true;
		p += sizeof(*ev) + ev->len;
	}
	return false;
}

/* The data or attributes of `name` in `dirfd` (or of `dirfd` itself when name is NULL), now
 * `st`, changed: invalidate the inode unless the kernel already agrees. A change the daemon is
 * making right now is waited for (briefly): its handler records the state it leaves. */
static void content_changed(dcfs_workspace_fs *ws, int dirfd, fuse_ino_t parent, const char *name,
			    struct stat *st)
{
	fuse_ino_t ino = 0;
	int r;
	for (int n = 0; (r = ws_inode_check(ws, st, &ino)) == -EBUSY; n++) {
		if (n == CHANGE_WAIT_MS)
			return; /* a long write stream of the daemon's own */
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
		if (fstatat(dirfd, name ? name : "", st,
			    name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) < 0)
			return;
	}
	if (r <= 0)
		return;
	inval_inode(ws, ino);
	/* with the writeback cache the kernel trusts its own size and mtime: drop the entry so
	 * that an unused inode is forgotten and looked up afresh */
	if (parent && name && S_ISREG(st->st_mode) && atomic_load(&ws->writeback))
		inval_entry(ws, parent, name);
}

static void handle_named(dcfs_workspace_fs *ws, batch *b, const struct inotify_event *ev, dev_t dev,
			 ino_t dir)
{
	const char *name = ev->name;
	struct stat st = {0};
	bool entry = ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO);
	if (ev->mask & IN_ISDIR) {
		if (ev->mask & (IN_CREATE | IN_MOVED_TO))
			ws_acct_walk(ws, b->dirfd, name);
		if ((ev->mask & IN_MOVED_FROM) && !move_paired(b, ev))
			b->rescan = true; /* moved out: its files left the workspace */
		if (!entry && fstatat(b->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			st.st_ino = 0;
	} else if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
		ws_acct_forget(ws, dir, name);
	} else {
		ws_acct_observe(ws, b->dirfd, dir, name, &st);
	}
	fuse_ino_t parent = ws_inode_find(ws, dev, dir);
	if (entry && !expected(ws, dev, dir, name) && parent) {
		inval_entry(ws, parent, name);
		inval_inode(ws, parent);
	} else if (!entry && st.st_ino) {
		content_changed(ws, b->dirfd, parent, name, &st);
	}
}

static void handle_event(dcfs_workspace_fs *ws, batch *b, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		b->rescan = true;
		return;
	}
	dev_t dev;
	ino_t dir;
	if (!event_dir(ws, b, ev, &dev, &dir))
		return;
	if (ev->len && ev->name[0]) {
		handle_named(ws, b, ev, dev, dir);
		return;
	}
	struct stat st;
	if ((ev->mask & IN_ATTRIB) && fstat(b->dirfd, &st) == 0)
		content_changed(ws, b->dirfd, 0, NULL, &st);
}

static void rescan(dcfs_workspace_fs *ws)
{
	ws_acct_walk(ws, -1, NULL);
	fuse_ino_t *ids;
	size_t n = ws_inode_all(ws, &ids);
	for (size_t k = 0; k < n; k++)
		inval_inode(ws, ids[k]);
	free(ids);
}

static void handle_batch(dcfs_workspace_fs *ws, const char *buf, size_t len)
{
	batch b = {.buf = buf, .end = buf + len, .wd = -1, .dirfd = -1};
	for (const char *p = buf; p < b.end;) {
		const struct inotify_event *ev = (const void *)p;
		handle_event(ws, &b, ev);
		p += sizeof(*ev) + ev->len;
	}
	if (b.dirfd >= 0)
		close(b.dirfd);
	if (b.rescan)
		rescan(ws);
}

static void *watch_main(void *arg)
{
	dcfs_workspace_fs *ws = arg;
	static __thread char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd pfd[2] = {{.fd = ws->ifd, .events = POLLIN},
				{.fd = ws->stop_efd, .events = POLLIN}};
	while (!atomic_load(&ws->watch_quit)) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		ssize_t n = read(ws->ifd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		handle_batch(ws, buf, (size_t)n);
	}
	return NULL;
}

int ws_watch_init(dcfs_workspace_fs *ws, dcfs_error *e)
{
	ws->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ws->ifd < 0)
		return dcfs_error_set(e, errno, "inotify: %m");
	ws->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ws->stop_efd < 0)
		return dcfs_error_set(e, errno, "eventfd: %m");
	return 0;
}

int ws_watch_start(dcfs_workspace_fs *ws, dcfs_error *e)
{
	int r = pthread_create(&ws->watch_thread, NULL, watch_main, ws);
	if (r)
		return dcfs_error_set(e, r, "cannot start the inotify thread: %s", strerror(r));
	ws->watch_started = true;
	return 0;
}

/* An invalidation can block in the kernel when it needs a request answered (writing back a
 * dirty page) and the loop no longer serves; it ends once the session's descriptor closes. So
 * stop without sending anything more, wait a while, and leave a stuck thread alone. */
bool ws_watch_stop(dcfs_workspace_fs *ws, int wait_s)
{
	if (!ws->watch_started)
		return true;
	atomic_store(&ws->watch_quit, true);
	uint64_t one = 1;
	if (write(ws->stop_efd, &one, sizeof(one)) < 0) {
		/* an eventfd write only fails on overflow, which cannot happen here */
	}
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += wait_s;
	if (pthread_timedjoin_np(ws->watch_thread, NULL, &deadline) != 0)
		return false;
	ws->watch_started = false;
	return true;
}

static void free_dir_link(ws_link *l, void *arg)
{
	dir_free(ws_container_of(l, ws_dir, link));
}

static void free_expect_link(ws_link *l, void *arg)
{
	free(ws_container_of(l, ws_expect, link));
}

void ws_watch_free(dcfs_workspace_fs *ws)
{
	ws_table_each(&ws->dirs, free_dir_link, NULL);
	ws_table_free(&ws->dirs);
	ws_table_each(&ws->expect, free_expect_link, NULL);
	ws_table_free(&ws->expect);
	if (ws->ifd >= 0)
		close(ws->ifd);
	if (ws->stop_efd >= 0)
		close(ws->stop_efd);
	ws->ifd = ws->stop_efd = -1;
}
