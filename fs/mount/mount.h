/* Running a FUSE filesystem: the shared daemon around each view (image root, workspace).
 *
 * dcfs_mount_serve() clears a stale mount left by a killed daemon (ENOTCONN) at the mount
 * point, creates the session with the view's operations, mounts it, calls the view's `ready`
 * hook (which may start helper threads that need the session, or stack an overlay), detaches
 * from the terminal unless `foreground`, and serves requests on a multithreaded loop until the
 * file system is unmounted or the process gets SIGINT/SIGTERM/SIGHUP. */
#pragma once

#include <stdbool.h>

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

/* The libfuse built against, as 314, 317, 318... */
#define DCFS_FUSE_VERSION (FUSE_MAJOR_VERSION * 100 + FUSE_MINOR_VERSION)

/* Whether the session's requests come over io_uring (libfuse >= 3.18 and a kernel that
 * offers it); for a view's init handler. */
bool dcfs_mount_uses_io_uring(const struct fuse_conn_info *conn);

#include "error.h"

typedef struct dcfs_mount_opts {
	const char *mountpoint;
	const char *fsname;  /* shown in /proc/mounts, e.g. "dcfs:busybox:latest" */
	const char *subtype; /* "dcfs" -> type fuse.dcfs */
	bool foreground;
	bool debug;
	bool read_only;
	bool allow_other;         /* let users other than the daemon's in */
	bool default_permissions; /* let the kernel check permissions from the attributes */
	bool killpriv_v2;         /* the view may take HANDLE_KILLPRIV_V2 (killpriv_io.h) */
	unsigned max_threads;     /* 0: libfuse's default */
	/* Called with `hook_data` in the serving process once the file system is mounted and
	 * before the loop serves any request (so before INIT); non-negative to go on. For work
	 * that the operations depend on. */
	int (*prepare)(struct fuse_session *se, void *hook_data, dcfs_error *e);
	/* Called with `hook_data` on its own thread once the loop serves (an overlay mount needs
	 * its lower file system to answer), before the parent is told that the mount is ready;
	 * non-negative to go on. */
	int (*ready)(struct fuse_session *se, void *hook_data, dcfs_error *e);
	/* Called after the loop ends, before the session is unmounted. */
	void (*stopping)(struct fuse_session *se, void *hook_data);
	void *hook_data;
} dcfs_mount_opts;

int dcfs_mount_serve(const struct fuse_lowlevel_ops *ops, void *userdata, const dcfs_mount_opts *o,
		     dcfs_error *e);

/* Is `path` a mount point whose FUSE daemon is gone (stat fails with ENOTCONN)? */
bool dcfs_mount_is_stale(const char *path);

/* Unmount `path` (lazily when the daemon is gone). Also unmounts a dcfs overlay's hidden lower
 * FUSE mount. Returns 0, or -errno with a message. */
int dcfs_umount(const char *path, dcfs_error *e);
