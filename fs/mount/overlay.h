/* A container root: kernel overlayfs with an image view as the lower directory and the
 * container's upper directory on top. Creating a root is a mount, never a copy. */
#pragma once

#include "error.h"

/* Mount overlayfs at `target` with `lower` (read-only), `upper` and `work` (created if missing;
 * `work` must be on the same file system as `upper`). */
int dcfs_overlay_mount(const char *lower, const char *upper, const char *work, const char *target,
		       dcfs_error *e);
