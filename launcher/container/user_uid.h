/* updateRemoteUserUID: the remote user's uid and gid made the workspace owner's, in the
 * container's /etc/passwd, /etc/group and home (see user_uid.c). */
#pragma once

#include <stdint.h>

#include "error.h"
#include "runtime.h"

/* Give `user` (resolved in `rootfs`) uid `uid` and gid `gid`: rewrite their /etc/passwd entry,
 * their primary group's gid in /etc/group (unless another group has `gid`), and chown what in
 * their home belonged to the old ids. Nothing for root, for uid 0, for a user without a name or
 * when another user has `uid`; `user` is updated when the change was made. */
int dcfs_user_update_uid(const char *rootfs, dcfs_user *user, uint32_t uid, uint32_t gid,
			 dcfs_error *e);
