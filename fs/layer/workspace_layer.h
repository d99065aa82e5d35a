/* A prebuild's workspace layer (fs/layer/snapshot.h) brought into a checkout: what the prebuild's
 * commands added to or changed in its workspace is written into another folder, without
 * overwriting anything there. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

typedef struct dcfs_workspace_apply {
	uint64_t added;	  /* files, folders and links written */
	uint64_t updated; /* files of the checkout replaced: `replaceable` said they may be */
	uint64_t skipped; /* kept as the checkout has them (it has that path already, or a
			   * file or link where the layer has a folder), and deletions not made */
} dcfs_workspace_apply;

/* Whether the checkout's regular file `path` (relative to the folder) may be replaced by the
 * layer's: it is the checkout's as committed, not the user's own. */
typedef bool (*dcfs_workspace_replaceable_fn)(const char *folder, const char *path);

/* Write layer `layer_id`'s entries under `folder`: new folders, files (contents, mode, mtime),
 * symbolic and hard links, owned by the folder's owner. A path that exists in the folder is left
 * as it is (counted as skipped), unless both are regular files and `replaceable` (may be NULL)
 * says yes; every path below one that is no folder is skipped too; nothing is followed through a
 * symbolic link of the checkout. Whiteouts delete nothing: the checkout's file is kept
 * (skipped). Device nodes, sockets and fifos are not made (skipped). */
int dcfs_workspace_layer_apply(dcfs_store *s, int64_t layer_id, const char *folder,
			       dcfs_workspace_replaceable_fn replaceable,
			       dcfs_workspace_apply *out, dcfs_error *e);
