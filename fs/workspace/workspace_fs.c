/* The workspace view's lifecycle: creating and freeing it, the FUSE init negotiation, the
 * operation table, and the ready/stopping hooks that run the inotify and catalog threads.
 *
 * The operations themselves are in workspace_entry.c (names and attributes) and
 * workspace_file.c (open files and folders); workspace_watch.c invalidates the kernel's caches
 * on host-side changes and workspace_account.c keeps the catalog's counts. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "daemon_log.h"
#include "killpriv_io.h"
#include "mount_state.h"
#include "workspace_internal.h"

#define LONG_TIMEOUT 86400.0 /* the watches invalidate: cache for a day */
#define SHORT_TIMEOUT 1.0    /* without watches */
#define MAX_WRITE (1u << 20)

#if DCFS_FUSE_VERSION >= 317
#define HAVE_FEATURE_FLAGS 1
#endif

static bool want(struct fuse_conn_info *conn, uint64_t flag)
{
#ifdef HAVE_FEATURE_FLAGS
	return fuse_set_feature_flag(conn, flag);
#else
	if (!(conn->capable & flag))
		return false;
	conn->want |= (unsigned)flag;
	return true;
#endif
}

static void unwant(struct fuse_conn_info *conn, uint64_t flag)
{
#ifdef HAVE_FEATURE_FLAGS
	fuse_unset_feature_flag(conn, flag);
#else
	conn->want &= ~(unsigned)flag;
#endif
}

/* What the view negotiated, for `dcfs info` (mount_state.h). */
static void publish_mode(dcfs_workspace_fs *ws, struct fuse_conn_info *conn)
{
	const char *mode = atomic_load(&ws->passthrough) ? "passthrough"
			   : atomic_load(&ws->writeback) ? "writeback"
							 : "write-through";
	char features[256];
	snprintf(features, sizeof(features), "%s%s%s%s%s",
		 dcfs_mount_uses_io_uring(conn) ? " io_uring" : "",
		 atomic_load(&ws->killpriv_v2) ? " killpriv_v2" : "",
		 atomic_load(&ws->posix_acl) ? " posix_acl" : "", ws->no_flush ? " no_flush" : "",
		 ws->ifd >= 0 ? " inotify" : "");
	dcfs_mount_state_publish("workspace", mode, features[0] ? features + 1 : "-",
				 conn->proto_major, conn->proto_minor);
}

/* The data path is chosen here from what is known before the mount serves (the libfuse
 * build, what the kernel offers, the inotify descriptor made before the mount), never from
 * work running on another thread, so every mount of a folder comes up in the same mode. */
static void ws_init(void *userdata, struct fuse_conn_info *conn)
{
	dcfs_workspace_fs *ws = userdata;
	static const uint64_t wanted[] = {
		FUSE_CAP_ASYNC_READ,	  FUSE_CAP_PARALLEL_DIROPS,  FUSE_CAP_ASYNC_DIO,
		FUSE_CAP_SPLICE_READ,	  FUSE_CAP_SPLICE_WRITE,     FUSE_CAP_SPLICE_MOVE,
		FUSE_CAP_READDIRPLUS,	  FUSE_CAP_READDIRPLUS_AUTO, FUSE_CAP_ATOMIC_O_TRUNC,
		FUSE_CAP_AUTO_INVAL_DATA, FUSE_CAP_FLOCK_LOCKS,	     FUSE_CAP_CACHE_SYMLINKS,
	};
	for (size_t k = 0; k < ELEMENTSOF(wanted); k++)
		want(conn, wanted[k]);
	/* Version 1 would make the daemon clear suid/sgid on every write, truncate and chown;
	 * without it the kernel sends the mode change itself. */
	unwant(conn, FUSE_CAP_HANDLE_KILLPRIV);
	/* Version 2 lets the kernel skip a getxattr(security.capability) round trip per write;
	 * the daemon then drops suid/sgid itself on writes, truncates and opens with O_TRUNC by
	 * a caller without CAP_FSETID (workspace_mode.c). libfuse < 3.17 cannot negotiate it:
	 * killpriv_io.c adds it to the INIT reply. */
	atomic_store(&ws->killpriv_v2, dcfs_killpriv_v2_take(conn));
#ifdef DCFS_HAVE_PASSTHROUGH
	/* The kernel refuses passthrough together with the writeback cache: prefer passthrough,
	 * which keeps the data path out of the daemon entirely. */
	atomic_store(&ws->passthrough, want(conn, FUSE_CAP_PASSTHROUGH));
#endif
	/* Otherwise the writeback cache: writes stay in the kernel's page cache and reach the
	 * daemon in large batches. It needs HANDLE_KILLPRIV_V2 (else every write(2) still costs
	 * a getxattr round trip) and the inotify watches (with it the kernel trusts its own size
	 * and mtime, so host-side changes must drop its entries: workspace_watch.c). */
	if (!atomic_load(&ws->passthrough) && ws->ifd >= 0 && atomic_load(&ws->killpriv_v2))
		atomic_store(&ws->writeback, want(conn, FUSE_CAP_WRITEBACK_CACHE));
	/* The kernel checks the host's POSIX ACLs (fetched as system.posix_acl_* xattrs, which
	 * pass through) and leaves the umask to the daemon, which must skip it where a default
	 * ACL applies. Only where the host keeps ACLs: else every check would fail. */
	if (ws_acl_supported(ws->path) && want(conn, FUSE_CAP_POSIX_ACL)) {
		if (want(conn, FUSE_CAP_DONT_MASK))
			atomic_store(&ws->posix_acl, true);
		else
			unwant(conn, FUSE_CAP_POSIX_ACL);
	}
	conn->max_write = MAX_WRITE;
	conn->time_gran = 1;
	publish_mode(ws, conn);
}

static const struct fuse_lowlevel_ops ops = {
	.init = ws_init,
	WS_ENTRY_OPS(WS_OP_INIT)
	WS_FILE_OPS(WS_OP_INIT)
};

const struct fuse_lowlevel_ops *dcfs_workspace_fs_ops(void)
{
	return &ops;
}

/* The view keeps a descriptor per inode the kernel knows: use all the descriptors allowed, and
 * keep a quarter of them for open files, folders and the catalog. */
static void raise_nofile(dcfs_workspace_fs *ws)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	long limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (long)rl.rlim_cur : 1024;
	if (limit > (1L << 20))
		limit = 1L << 20;
	long reserve = limit / 4 > 256 ? limit / 4 : 256;
	ws->fd_budget = limit > reserve + 64 ? limit - reserve : 64;
}

static int save_identity(dcfs_workspace_fs *ws, dcfs_error *e)
{
	ws->uid = geteuid();
	ws->gid = getegid();
	int n = getgroups(0, NULL);
	if (n < 0)
		return dcfs_error_set(e, errno, "getgroups: %m");
	ws->groups = calloc((size_t)n + 1, sizeof(gid_t));
	if (!ws->groups)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	ws->ngroups = getgroups(n, ws->groups);
	if (ws->ngroups < 0)
		return dcfs_error_set(e, errno, "getgroups: %m");
	return 0;
}

/* Whether close(2) on the host folder's file system can report anything: the local disk file
 * systems have no flush operation (deferred write errors show at fsync), so a FLUSH round trip
 * per close would only cost time; NFS, CIFS and FUSE hosts report errors at close. */
static bool close_reports_nothing(int fd)
{
	static const long local[] = {
		0xEF53,	    /* ext2/3/4 */
		0x58465342, /* xfs */
		0x9123683E, /* btrfs */
		0x01021994, /* tmpfs */
		0xF2F52010, /* f2fs */
	};
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return false;
	for (size_t k = 0; k < ELEMENTSOF(local); k++)
		if ((long)sf.f_type == local[k])
			return true;
	return false;
}

static int open_root(dcfs_workspace_fs *ws, const char *hostdir, dcfs_error *e)
{
	ws->path = realpath(hostdir, NULL);
	if (!ws->path)
		return dcfs_error_set(e, errno, "cannot resolve workspace '%s': %m", hostdir);
	ws->root.fd = open(ws->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ws->mount_fd = open(ws->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (ws->root.fd < 0 || ws->mount_fd < 0 || fstat(ws->root.fd, &st) < 0)
		return dcfs_error_set(e, errno, "cannot open workspace '%s': %m", ws->path);
	ws->root.dev = ws->dev = st.st_dev;
	ws->root.ino = st.st_ino;
	ws->root.type = S_IFDIR;
	ws->root.refs = 2; /* never released */
	ws->no_flush = close_reports_nothing(ws->mount_fd);
	return 0;
}

static void init_locks(dcfs_workspace_fs *ws)
{
	pthread_mutex_init(&ws->ilock, NULL);
	pthread_mutex_init(&ws->wlock, NULL);
	pthread_mutex_init(&ws->alock, NULL);
	pthread_mutex_init(&ws->lazy_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ws->acond, &ca);
	pthread_condattr_destroy(&ca);
}

int dcfs_workspace_fs_new(const char *hostdir, dcfs_store *store, dcfs_workspace_fs **out,
			  dcfs_error *e)
{
	_cleanup_(dcfs_workspace_fs_freep) dcfs_workspace_fs *ws = calloc(1, sizeof(*ws));
	if (!ws)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	ws->root.fd = ws->mount_fd = ws->ifd = ws->stop_efd = -1;
	ws->timeout = SHORT_TIMEOUT;
	init_locks(ws);
	int r = open_root(ws, hostdir, e);
	if (r >= 0)
		r = save_identity(ws, e);
	if (r < 0)
		return r;
	if (store && !(ws->store_root = strdup(store->root)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	raise_nofile(ws);
	/* before the mount: the init handler's choice of data path depends on it */
	_cleanup_error_ dcfs_error werr = {0};
	if (ws_watch_init(ws, &werr) < 0) {
		/* still correct with short timeouts and no writeback cache, only slower */
		dcfs_daemon_log(FUSE_LOG_WARNING,
				"workspace '%s': %s: host-side changes show after a second",
				ws->path, werr.msg ? werr.msg : "");
		ws_watch_free(ws);
	}
	*out = TAKE_PTR(ws);
	return 0;
}

/* The first walk places the inotify watches and counts the folder; a big folder takes a while
 * (tens of milliseconds for thousands of files), so it runs here, after the mount is ready and
 * serving: until it is done the timeouts stay short and host-side changes show within a
 * second, and handlers' observations during it are not lost (the walk's generation, see
 * workspace_account.c). Then the catalog and inotify threads start. */
static void *settle(void *arg)
{
	dcfs_workspace_fs *ws = arg;
	ws_acct_walk(ws, -1, NULL);
	if (atomic_load(&ws->settle_quit))
		return NULL;
	if (ws->ifd >= 0 && !ws->watch_full)
		ws->timeout = LONG_TIMEOUT;
	_cleanup_error_ dcfs_error e = {0};
	int r = ws_acct_start(ws, &e);
	if (r >= 0 && ws->ifd >= 0)
		r = ws_watch_start(ws, &e);
	if (r < 0)
		dcfs_daemon_log(FUSE_LOG_ERR, "workspace '%s': %s", ws->path,
				e.msg ? e.msg : strerror(-r));
	return NULL;
}

int dcfs_workspace_fs_ready(struct fuse_session *se, void *userdata, dcfs_error *e)
{
	dcfs_workspace_fs *ws = userdata;
	ws->se = se;
	umask(0); /* the kernel applied the caller's umask to the modes it sends */
	int r = pthread_create(&ws->settle_thread, NULL, settle, ws);
	if (r)
		return dcfs_error_set(e, r, "cannot start the workspace's walk: %s", strerror(r));
	ws->settle_started = true;
	return 0;
}

static void settle_stop(dcfs_workspace_fs *ws)
{
	if (!ws->settle_started)
		return;
	atomic_store(&ws->settle_quit, true);
	pthread_join(ws->settle_thread, NULL);
	ws->settle_started = false;
}

void dcfs_workspace_fs_stopping(struct fuse_session *se, void *userdata)
{
	dcfs_workspace_fs *ws = userdata;
	settle_stop(ws);
	ws_watch_stop(ws, 2);
	ws_acct_stop(ws);
}

void dcfs_workspace_fs_free(dcfs_workspace_fs *ws)
{
	if (!ws)
		return;
	settle_stop(ws);
	ws_acct_stop(ws);
	/* by now the session's descriptor is closed, which ends a blocked notification */
	if (!ws_watch_stop(ws, 5)) {
		dcfs_daemon_log(FUSE_LOG_ERR, "workspace '%s': the inotify thread is stuck",
				ws->path);
		return; /* it still uses the view: leave it all to the exiting process */
	}
	ws_watch_free(ws);
	ws_acct_free(ws);
	ws_inode_free_all(ws);
	ws_lazy_free(ws);
	if (ws->root.fd >= 0)
		close(ws->root.fd);
	if (ws->mount_fd >= 0)
		close(ws->mount_fd);
	pthread_mutex_destroy(&ws->ilock);
	pthread_mutex_destroy(&ws->wlock);
	pthread_mutex_destroy(&ws->alock);
	pthread_cond_destroy(&ws->acond);
	free(ws->groups);
	free(ws->store_root);
	free(ws->path);
	free(ws);
}
