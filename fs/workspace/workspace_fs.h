/* The workspace view: a host folder served through FUSE as it is.
 *
 * Every POSIX operation passes through to the host folder. Files and folders are created with
 * the caller's fsuid/fsgid, so what uid 1000 creates in the container belongs to uid 1000 on the
 * host. Entry and attribute timeouts are long; an inotify thread invalidates the kernel's caches
 * when the folder changes on the host side. The workspace's byte and file counts are kept live
 * in the catalog's `workspaces` row (keyed by the folder's realpath), written at most once a
 * second and at stop.
 *
 * Mount it with dcfs_mount_serve(dcfs_workspace_fs_ops(), ws, &opts) where opts has
 * allow_other and default_permissions set (the kernel checks permissions from the attributes)
 * and dcfs_workspace_fs_ready / dcfs_workspace_fs_stopping as its hooks. See
 * doc/workspace.md for the design. */
#pragma once

#include "mount.h"
#include "store.h"

typedef struct dcfs_workspace_fs dcfs_workspace_fs;

/* Prepare a view of `hostdir` (which must be a folder). `store` may be NULL (no catalog
 * accounting); otherwise only its root path is copied (the store may be closed). Opens
 * the folder and the inotify descriptor (so that the init handler's choice of data path is
 * known before the mount serves); threads and the catalog connection start in the ready hook
 * (called as dcfs_mount_opts.prepare). Raises
 * the soft RLIMIT_NOFILE to the hard limit (the view keeps an O_PATH descriptor per inode the
 * kernel knows). */
int dcfs_workspace_fs_new(const char *hostdir, dcfs_store *store, dcfs_workspace_fs **out,
			  dcfs_error *e);

const struct fuse_lowlevel_ops *dcfs_workspace_fs_ops(void);

/* The `ready` hook for dcfs_mount_opts: walks the folder (placing the inotify watches and
 * counting bytes and files), marks the workspace in use in the catalog, starts the inotify and
 * catalog threads, and sets the process umask to 0 (the kernel already applied the caller's). */
int dcfs_workspace_fs_ready(struct fuse_session *se, void *userdata, dcfs_error *e);

/* The `stopping` hook: stops the threads and writes the final counts with in_use = 0. */
void dcfs_workspace_fs_stopping(struct fuse_session *se, void *userdata);

void dcfs_workspace_fs_free(dcfs_workspace_fs *ws);
DEFINE_TRIVIAL_CLEANUP(dcfs_workspace_fs *, dcfs_workspace_fs_free)

/* The current counts (for tests and `dcfs du` of a live daemon); thread-safe. */
void dcfs_workspace_fs_counts(dcfs_workspace_fs *ws, int64_t *bytes, int64_t *files);
