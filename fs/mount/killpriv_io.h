/* HANDLE_KILLPRIV_V2 on every libfuse (see killpriv_io.c): with libfuse < 3.17 the session's
 * /dev/fuse I/O goes through hooks that add the flag to the INIT reply. */
#pragma once

#include <stdbool.h>

#include "mount.h"

/* Called once the session is mounted, before it serves (dcfs_mount_serve does it when the view
 * sets dcfs_mount_opts.killpriv_v2). 0, or -errno. */
int dcfs_killpriv_io_install(struct fuse_session *se);

/* From the view's init handler: ask for HANDLE_KILLPRIV_V2; true when the kernel offered it and
 * it will be in the INIT reply (the view must then drop set-user-ID and set-group-ID bits on
 * writes and truncates itself). */
bool dcfs_killpriv_v2_take(struct fuse_conn_info *conn);
