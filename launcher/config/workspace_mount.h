/* devcontainer.json `workspaceMount`: Docker's --mount syntax ("type=bind,source=S,target=T"),
 * as the reference CLI hands it to `docker run --mount`. dcfs serves a bind source through its
 * FUSE workspace view; a volume is the folder STORE/volumes/<name>/ bound in directly. */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "mount_spec.h"

/* After dcfs_workspace_mount_parse: type "bind" or "volume"; source, for a bind, the host
 * folder, absolute; for a volume, its name; target absolute in the container. */
typedef dcfs_mount_spec dcfs_workspace_mount;

/* Parse `text` (dcfs_mount_spec_parse's keys; type bind or volume, Docker's default when
 * missing being volume). Another key, another type,
 * a missing or relative source or target, or a bad volume name fail with -EINVAL and a message
 * "WHERE: workspaceMount: ..." naming it. A bind source is made lexically absolute ("/a/b/.."
 * is "/a"). Nothing on the host is looked at. */
int dcfs_workspace_mount_parse(const char *text, const char *where, dcfs_workspace_mount *out,
			       dcfs_error *e);

/* A bind source must be a folder that exists (Docker refuses a missing one):
 * "WHERE: workspaceMount: bind source path does not exist: S". Volumes: nothing to check. */
int dcfs_workspace_mount_check(const dcfs_workspace_mount *m, const char *where, dcfs_error *e);

/* Where the host folder `folder` appears in the container through this bind mount: TARGET and
 * the part of `folder` below SOURCE; NULL when `folder` is not at or below SOURCE (or `m` is
 * not a bind). malloc'd. */
char *dcfs_workspace_mount_path_of(const dcfs_workspace_mount *m, const char *folder);

void dcfs_workspace_mount_free(dcfs_workspace_mount *m);
