/* What the workspace view's files share (not an API: only fs/workspace_*.c include it).
 *
 * Design notes
 * - Inodes: one ws_inode per host inode the kernel knows, keyed by (st_dev, st_ino), holding an
 *   O_PATH descriptor, like libfuse's passthrough_ll. Past a descriptor budget (the hard
 *   RLIMIT_NOFILE is 20000 on our machines and cannot be raised) new inodes keep a file handle
 *   instead and reopen it per operation. The FUSE node id is the ws_inode's address. An entry
 *   whose host file was deleted and whose inode number came back for a new file is detected at
 *   lookup (the old descriptor shows nlink 0) and replaced.
 * - Credentials: operations that create or modify run with the caller's fsuid/fsgid (raw
 *   per-thread syscalls); supplementary groups are fetched and set only when the first attempt
 *   fails with EACCES/EPERM, since reading them costs a /proc read. Opening an existing file
 *   runs as the daemon: the kernel already checked the caller (default_permissions, and the
 *   host's POSIX ACLs, which it fetches and caches as system.posix_acl_* xattrs) and the
 *   writeback cache needs O_RDWR for files opened write-only.
 * - Set-user-ID and set-group-ID bits must go on a write or truncate by a process without
 *   CAP_FSETID, owner or not. Without HANDLE_KILLPRIV_V2 (libfuse 3.14) the kernel sends the
 *   mode change, which the daemon makes as itself when the writer does not own the file. With
 *   it (3.17) the kernel leaves it to the daemon, whose write, truncate and open(O_TRUNC)
 *   handlers drop the bits; libfuse passes the kernel's verdict on CAP_FSETID only for
 *   truncate, so the others read the caller's capabilities from /proc, for files with such
 *   bits only. Those files get no FUSE passthrough: its writes never reach the daemon.
 * - Invalidation: every folder of the workspace carries an inotify watch (placed by the walk at
 *   mount and for new folders; lookups add one too). A host-side change invalidates the kernel's
 *   entry and inode caches. Changes the daemon made itself are recognised and skipped: entry
 *   changes by an "expected event" table the handlers fill before acting, content changes by
 *   comparing the file's ctime and size with what the daemon saw after its own last change
 *   (ws_inode.kstate). Notifications are sent from the inotify thread with no lock held.
 * - Accounting: bytes (st_size of regular files, hardlinks once) and files (distinct regular
 *   files) on the workspace's own device. The walk and every event "observe" a name (stat it
 *   now and apply the difference), so replaying or reordering events cannot double count. */
#pragma once

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "config.h" /* DCFS_HAVE_PASSTHROUGH, when meson puts it there */
#include "workspace_fs.h"

/* ---- a small intrusive hash table (workspace_table.c) ---- */

typedef struct ws_link {
	struct ws_link *next;
	uint64_t hash;
} ws_link;

typedef struct ws_table {
	ws_link **buckets;
	size_t mask; /* bucket count - 1, 0 when unallocated */
	size_t count;
} ws_table;

typedef bool (*ws_eq_fn)(const ws_link *l, const void *key);

ws_link *ws_table_find(const ws_table *t, uint64_t hash, ws_eq_fn eq, const void *key);
int ws_table_insert(ws_table *t, ws_link *l, uint64_t hash); /* 0 or -ENOMEM */
void ws_table_remove(ws_table *t, ws_link *l);
/* Call fn on every link; fn may remove the link it is given. */
void ws_table_each(ws_table *t, void (*fn)(ws_link *l, void *arg), void *arg);
void ws_table_free(ws_table *t);
uint64_t ws_hash(const void *data, size_t len, uint64_t seed);

#define ws_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* ---- inodes and credentials (workspace_inode.c) ---- */

/* What the kernel's caches were last known to agree with, for one host inode. */
typedef struct ws_kstate {
	struct timespec ctime;
	off_t size;
} ws_kstate;

typedef struct ws_inode {
	ws_link link; /* in ws->inodes, by (dev, ino) */
	int fd;	      /* O_PATH, or -1 when only `handle` is kept */
	struct file_handle *handle;
	dev_t dev;
	ino_t ino;
	mode_t type;	     /* S_IFMT bits */
	uint64_t refs;	     /* kernel lookups plus internal pins; ws->ilock */
	bool hashed;	     /* in ws->inodes; ws->ilock */
	ws_kstate kstate;    /* ws->ilock */
	unsigned changing;   /* handlers changing its data or attributes now; ws->ilock */
	unsigned nopen;	     /* open file handles; ws->ilock */
	int backing_id;	     /* FUSE passthrough backing file, 0 when none; ws->ilock */
	bool no_passthrough; /* passthrough failed while open; ws->ilock */
} ws_inode;

/* A descriptor for an inode: borrowed from the inode, or opened from its handle (owned). */
typedef struct ws_fd {
	int fd;
	bool owned;
} ws_fd;
#define WS_FD_INIT                                                                                 \
	{                                                                                          \
		.fd = -1, .owned = false                                                           \
	}
static inline void ws_fd_put(ws_fd *f)
{
	if (f->owned && f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->owned = false;
}
#define _cleanup_wsfd_ __attribute__((cleanup(ws_fd_put)))

/* ---- the view ---- */

struct dcfs_workspace_fs {
	char *path;	  /* realpath of the host folder: the catalog key */
	char *store_root; /* NULL: no catalog */
	ws_inode root;
	int mount_fd;	/* the folder opened O_RDONLY: open_by_handle_at refuses O_PATH */
	dev_t dev;	/* the folder's device: accounting stays on it */
	_Atomic double timeout; /* entry/attr timeout: long once the watches run, else 1 s */
	struct fuse_session *se;

	/* set in init */
	atomic_bool writeback;
	atomic_bool passthrough;
	atomic_bool killpriv_v2;
	atomic_bool posix_acl; /* the kernel enforces the host's ACLs (workspace_mode.c) */
	bool no_flush;	       /* FLUSH is answered ENOSYS: close reports nothing on the host */

	/* the daemon's own identity, restored after each caller switch */
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;

	pthread_mutex_t ilock;
	ws_table inodes;
	atomic_long nfds; /* O_PATH descriptors held by inodes */
	long fd_budget;

	/* watches (workspace_watch.c) */
	pthread_mutex_t wlock;
	int ifd;		/* inotify, -1 when not watching */
	int stop_efd;		/* eventfd that stops the inotify thread */
	ws_table dirs;		/* by wd */
	ws_table expect;	/* expected entry events, by (dir ino, name) */
	unsigned wgen;		/* walk generation for dirs */
	atomic_bool watch_full; /* the watch limit was reached: timeouts stay short */
	atomic_bool watch_quit; /* stopping: send no more notifications */
	pthread_t watch_thread;
	bool watch_started;

	/* the first walk, on its own thread once the mount serves (workspace_fs.c) */
	pthread_t settle_thread;
	bool settle_started;
	atomic_bool settle_quit; /* unmounting: end the walk early */

	/* descriptors of lazy handles that took a flock (workspace_lazy.c) */
	pthread_mutex_t lazy_lock;
	struct lazy_flock *lazy_flocks;

	/* accounting (workspace_account.c) */
	pthread_mutex_t alock;
	pthread_cond_t acond;
	ws_table files; /* by ino */
	ws_table names; /* by (dir ino, name) */
	unsigned agen;
	int64_t bytes, nfiles;
	bool dirty;
	bool counted; /* the first walk finished: the totals mean something */
	bool astop;
	sqlite3 *db;
	pthread_t flush_thread;
	bool flush_started;
};

ws_inode *ws_inode_of(dcfs_workspace_fs *ws, fuse_ino_t ino);
fuse_ino_t ws_nodeid(dcfs_workspace_fs *ws, ws_inode *i);
/* A descriptor for `i` (borrowed or reopened from its handle); 0 or -errno. */
int ws_inode_fd(dcfs_workspace_fs *ws, ws_inode *i, ws_fd *out);
/* Find or add the inode for `fd` (an O_PATH descriptor, consumed) described by `st`; takes one
 * reference. Sets *created when the entry is new. */
int ws_inode_get(dcfs_workspace_fs *ws, int fd, const struct stat *st, ws_inode **out,
		 bool *created);
void ws_inode_unref(dcfs_workspace_fs *ws, ws_inode *i, uint64_t n);
/* Record that the kernel's view of `i` now matches `st` (it is about to get these attributes,
 * or the daemon changed the file and the kernel's cache already has the change). */
void ws_inode_synced(dcfs_workspace_fs *ws, ws_inode *i, const struct stat *st);
/* Bracket a change the daemon makes to a file's data or attributes, so that the inotify thread
 * does not take the event it causes for a host-side change; `st` (NULL: unknown) is the state
 * after the change. */
void ws_inode_change_begin(dcfs_workspace_fs *ws, ws_inode *i);
void ws_inode_change_end(dcfs_workspace_fs *ws, ws_inode *i, const struct stat *st);
/* For the inotify thread, about host inode `st`: 1 and *id set (and its kstate updated) when
 * the kernel knows it and has not seen this state; 0 when nothing is to be done; -EBUSY while
 * a handler is changing it. */
int ws_inode_check(dcfs_workspace_fs *ws, const struct stat *st, fuse_ino_t *id);
/* The node id of folder (dev, ino) if the kernel knows it, else 0. */
fuse_ino_t ws_inode_find(dcfs_workspace_fs *ws, dev_t dev, ino_t ino);
bool ws_kstate_matches(const ws_kstate *ks, const struct stat *st);
/* Every node id the kernel knows (for a full invalidation after an inotify overflow). */
size_t ws_inode_all(dcfs_workspace_fs *ws, fuse_ino_t **out);
void ws_inode_free_all(dcfs_workspace_fs *ws);

typedef struct ws_creds {
	bool switched;
	dcfs_workspace_fs *ws;
} ws_creds;
/* Switch this thread to the caller's fsuid/fsgid (and supplementary groups when
 * `with_groups`); 0 or -errno. Does nothing for a root caller in group 0. */
int ws_creds_enter(fuse_req_t req, ws_creds *c, bool with_groups);
void ws_creds_leave(ws_creds *c);
#define _cleanup_creds_ __attribute__((cleanup(ws_creds_leave)))

/* Evaluate `call` (a system call expression: -1 and errno on failure) as the caller; `res`
 * gets its value or -errno. Retries once with the supplementary groups on EACCES/EPERM. */
#define WS_AS_CALLER(req, res, call) WS_AS_CALLER_FROM(req, res, false, call)
/* The same, with the supplementary groups from the start when `groups` is true: for calls
 * whose outcome depends on them without failing (a set-group-ID bit the host drops silently
 * for a non-member). */
#define WS_AS_CALLER_FROM(req, res, groups, call)                                                  \
	do {                                                                                       \
		for (int ws_pass_ = (groups) ? 1 : 0; ws_pass_ < 2; ws_pass_++) {                  \
			ws_creds ws_c_ = {0};                                                      \
			int ws_r_ = ws_creds_enter((req), &ws_c_, ws_pass_ == 1);                  \
			if (ws_r_ < 0) {                                                           \
				(res) = ws_r_;                                                     \
				break;                                                             \
			}                                                                          \
			(res) = (call);                                                            \
			if ((res) < 0)                                                             \
				(res) = -errno;                                                    \
			bool ws_sw_ = ws_c_.switched;                                              \
			ws_creds_leave(&ws_c_);                                                    \
			if ((res) >= 0 || !ws_sw_ || ((res) != -EACCES && (res) != -EPERM))        \
				break;                                                             \
		}                                                                                  \
	} while (0)

/* ---- modes and ACLs (workspace_mode.c) ---- */

/* Whether the host folder at `path` keeps POSIX ACLs (the view then has the kernel enforce
 * them: FUSE_CAP_POSIX_ACL). */
bool ws_acl_supported(const char *path);
/* Whether `name` is an ACL xattr the kernel fetches for its checks (ACLs negotiated). */
bool ws_is_acl_name(dcfs_workspace_fs *ws, const char *name);
/* The mode to create `mode` with in the folder open at `dirfd` (O_PATH): with ACLs negotiated
 * the kernel leaves the caller's umask to the daemon, and the umask does not apply where the
 * folder has a default ACL (the host then derives the mode from it). */
mode_t ws_create_mode(fuse_req_t req, int dirfd, mode_t mode);
/* Whether changing the mode of the inode open at `fd` to `mode` only drops its set-user-ID
 * and/or set-group-ID bits: the change the kernel asks for on a write or truncate by a process
 * without CAP_FSETID, owner or not. */
bool ws_mode_drops_privs_only(int fd, mode_t mode);
/* After the caller's write, truncate or open(O_TRUNC) of the host file `fd` (of attributes
 * `st`): drop its set-user-ID bit, and its set-group-ID bit where it is group-executable, as
 * the host does for a local one by a process without CAP_FSETID. `check_caller`: read the
 * caller's capabilities from /proc (only for a file with such bits), else the kernel found it
 * without CAP_FSETID. True (and `st` updated) when bits were dropped. */
bool ws_drop_privs(fuse_req_t req, int fd, struct stat *st, bool check_caller);
/* Whether a write to a file of mode `mode` by a process without CAP_FSETID drops bits. */
static inline bool ws_mode_is_privileged(mode_t mode)
{
	return (mode & S_ISUID) || (mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP);
}

/* "/proc/self/fd/N" for reaching an O_PATH descriptor through path-only system calls. */
#define WS_PROC_PATH_MAX 32
void ws_proc_path(int fd, char buf[WS_PROC_PATH_MAX]);

/* A handler working on an inode through its /proc/self/fd path. */
typedef struct ws_node {
	ws_inode *i;
	ws_fd f;
	char proc[WS_PROC_PATH_MAX];
} ws_node;
#define WS_NODE_INIT {.f = WS_FD_INIT}
static inline void ws_node_put(ws_node *n)
{
	ws_fd_put(&n->f);
}
#define _cleanup_wsnode_ __attribute__((cleanup(ws_node_put)))
/* Open inode `ino` (n->i) for its /proc path: 0, or -errno. A symlink gives `link_err` when
 * that is not 0 (its /proc path would reach the link's target). */
long ws_node_open(dcfs_workspace_fs *ws, fuse_ino_t ino, long link_err, ws_node *n);

/* ---- lazy reader handles (workspace_lazy.c) ---- */

/* The size from which a reader's open gets FUSE passthrough (workspace_file.c), and below
 * which a cached reader's handle is lazy. */
#define WS_PASSTHROUGH_READ_MIN (1 << 20)
/* fi->fh of a handle with no host descriptor */
#define WS_FH_LAZY UINT64_MAX
static inline bool ws_fh_lazy(const struct fuse_file_info *fi)
{
	return fi && fi->fh == WS_FH_LAZY;
}
/* For ws_open: a read-only open of a small file whose pages the kernel holds gets a lazy
 * handle; true when it did (and the request is answered). */
bool ws_open_lazy(fuse_req_t req, ws_node *n, struct fuse_file_info *fi);
/* A descriptor of inode `ino` for one call on a lazy handle (the caller closes it); -errno. */
int ws_lazy_fd(dcfs_workspace_fs *ws, fuse_ino_t ino);
/* flock on a lazy handle (a descriptor kept for its lock owner), and its release. */
void ws_lazy_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op);
void ws_lazy_release(dcfs_workspace_fs *ws, struct fuse_file_info *fi);
void ws_lazy_free(dcfs_workspace_fs *ws);

/* ---- entry and file operations (workspace_entry.c, workspace_file.c) ---- */

/* Answer the request with the error r (-errno, or errno). */
void ws_reply_err(fuse_req_t req, long r);

/* A handler changing name `name` in folder `dir` (create, link, remove, rename): the folder's
 * descriptor `p`, the watcher told to expect the event the change will cause. */
typedef struct ws_change {
	ws_inode *dir;
	ws_fd p;
	const char *name;
} ws_change;
#define WS_CHANGE_INIT {.p = WS_FD_INIT}
static inline void ws_change_put(ws_change *n)
{
	ws_fd_put(&n->p);
}
#define _cleanup_wschange_ __attribute__((cleanup(ws_change_put)))
/* Open folder `parent` for the change and tell the watcher to expect it: 0, or -errno (nothing
 * expected then). */
long ws_change_begin(dcfs_workspace_fs *ws, fuse_ino_t parent, const char *name, ws_change *n);
/* After the host call that made the change: when it failed (r < 0), the watcher no longer
 * expects the event and the request is answered with the error; true then. */
bool ws_change_failed(fuse_req_t req, const ws_change *n, long r);

/* Look `name` up in `parent` and fill `e` (one reference taken); 0 or -errno. */
int ws_do_lookup(fuse_req_t req, ws_inode *parent, const char *name, struct fuse_entry_param *e);
/* The FUSE handlers, as X(fuse_lowlevel_ops field, handler) lists: the name and attribute
 * operations (workspace_entry.c) and the file and folder handle ones (workspace_file.c).
 * workspace_fs.c makes its constant operations table of them (WS_OP_INIT). */
#define WS_ENTRY_OPS(X)                  \
	X(lookup, ws_lookup)             \
	X(forget, ws_forget)             \
	X(forget_multi, ws_forget_multi) \
	X(getattr, ws_getattr)           \
	X(setattr, ws_setattr)           \
	X(readlink, ws_readlink)         \
	X(mknod, ws_mknod)               \
	X(mkdir, ws_mkdir)               \
	X(symlink, ws_symlink)           \
	X(link, ws_hardlink)             \
	X(unlink, ws_unlink)             \
	X(rmdir, ws_rmdir)               \
	X(rename, ws_rename)             \
	X(statfs, ws_statfs)             \
	X(setxattr, ws_setxattr)         \
	X(getxattr, ws_getxattr)         \
	X(listxattr, ws_listxattr)       \
	X(removexattr, ws_removexattr)
#define WS_FILE_OPS(X)                         \
	X(open, ws_open)                       \
	X(create, ws_create)                   \
	X(read, ws_read)                       \
	X(write_buf, ws_write_buf)             \
	X(flush, ws_flush)                     \
	X(release, ws_release)                 \
	X(fsync, ws_fsync)                     \
	X(flock, ws_flock)                     \
	X(fallocate, ws_fallocate)             \
	X(lseek, ws_lseek)                     \
	X(copy_file_range, ws_copy_file_range) \
	X(opendir, ws_opendir)                 \
	X(readdir, ws_readdir)                 \
	X(readdirplus, ws_readdirplus)         \
	X(releasedir, ws_releasedir)           \
	X(fsyncdir, ws_fsyncdir)
/* Declare a handler with its field's type; WS_OP_INIT is its designated initializer. */
#define WS_OP_DECLARE(field, fn) extern __typeof__(*((struct fuse_lowlevel_ops *)0)->field) fn;
#define WS_OP_INIT(field, fn) .field = fn,
WS_ENTRY_OPS(WS_OP_DECLARE)
WS_FILE_OPS(WS_OP_DECLARE)
static inline dcfs_workspace_fs *ws_of(fuse_req_t req)
{
	return (dcfs_workspace_fs *)fuse_req_userdata(req);
}

/* ---- watches (workspace_watch.c) ---- */

int ws_watch_init(dcfs_workspace_fs *ws, dcfs_error *e);
int ws_watch_start(dcfs_workspace_fs *ws, dcfs_error *e);
/* Stop the inotify thread, waiting at most `wait_s` seconds; false if it is still stuck. */
bool ws_watch_stop(dcfs_workspace_fs *ws, int wait_s);
void ws_watch_free(dcfs_workspace_fs *ws);
/* Watch the folder open at `fd` (any kind of descriptor). */
void ws_watch_add(dcfs_workspace_fs *ws, int fd);
/* Drop watches not seen since ws_watch_sweep_begin() (after a full walk). */
unsigned ws_watch_sweep_begin(dcfs_workspace_fs *ws);
void ws_watch_sweep_end(dcfs_workspace_fs *ws, unsigned gen);
/* The daemon is about to change entry `name` in folder `dir`: skip the event it will cause
 * (delta +1), or it failed to (delta -1). */
void ws_watch_expect(dcfs_workspace_fs *ws, const ws_inode *dir, const char *name, int delta);

/* ---- accounting (workspace_account.c) ---- */

/* Stat `name` in the folder open at `dirfd` (inode number `dir`) and bring the counts up to
 * date with it; *st gets the stat result (st_ino 0 when the name is gone). */
void ws_acct_observe(dcfs_workspace_fs *ws, int dirfd, ino_t dir, const char *name,
		     struct stat *st);
/* `name` is gone from folder `dir`. */
void ws_acct_forget(dcfs_workspace_fs *ws, ino_t dir, const char *name);
/* `name` in `dir` moved to `newname` in `newdir` (or the two were exchanged); one step, so the
 * catalog never sees the file missing. */
void ws_acct_rename(dcfs_workspace_fs *ws, int dirfd, ino_t dir, const char *name, int newdirfd,
		    ino_t newdir, const char *newname, bool exchange);
/* A file's size changed (after a write, truncate or fallocate through the view). */
void ws_acct_size(dcfs_workspace_fs *ws, const struct stat *st);
/* Walk the folder `name` in `dirfd` (or the whole workspace when dirfd < 0): watch every
 * folder and observe every file. A full walk also forgets names it did not meet. */
void ws_acct_walk(dcfs_workspace_fs *ws, int dirfd, const char *name);
int ws_acct_start(dcfs_workspace_fs *ws, dcfs_error *e);
void ws_acct_stop(dcfs_workspace_fs *ws);
void ws_acct_free(dcfs_workspace_fs *ws);
