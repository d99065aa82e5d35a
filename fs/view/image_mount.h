/* Mounting an image's root view: read-only at a mount point, or as a container's root with a
 * kernel overlay (an upper and a work folder) over the view, which then sits on a hidden mount
 * point under STORE/mnt/. */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "store.h"

typedef struct dcfs_image_mount_opts {
	const char *ref;    /* the image, as its canonical reference ("docker.io/library/x:tag") */
	const char *target; /* the mount point, an existing folder's real path */
	const char *upper;  /* the overlay's upper folder; NULL: the read-only view at target */
	const char *work;   /* the overlay's work folder; NULL: "work" beside upper */
	bool foreground;    /* serve here rather than detach once the mount is ready */
	bool debug;         /* libfuse's debug output (implies foreground for the caller) */
} dcfs_image_mount_opts;

/* Serve the image's root view until it is unmounted (foreground) or until it is mounted (the
 * daemon goes on in the background). The image is pinned against removal while served. The
 * store's catalog connection is closed before serving (the daemon reopens it only to quarantine
 * a chunk). Returns 0, or -errno with `e` filled. */
int dcfs_image_mount(dcfs_store *s, const dcfs_image_mount_opts *o, dcfs_error *e);
