/* A prebuild's copy-on-write workspace. A prebuild of a folder in a git repository runs on an
 * overlay with the folder as its read-only lower directory and an upper directory of the
 * prebuild container's own (STORE/containers/<id>/workspace-upper): the workspace view serves
 * the overlay, so the folder is never written, and the upper directory is what the prebuild's
 * commands changed in the workspace. The snapshot stores it as the snapshot's workspace layer
 * (fs/layer/snapshot.h); `up` from the prebuild writes it into the new checkout
 * (fs/layer/workspace_layer.h). */
#pragma once

#include "error.h"
#include "store.h"

#define DCFS_WORKSPACE_UPPER "workspace-upper"
#define DCFS_WORKSPACE_WORK "workspace-work"
#define DCFS_WORKSPACE_COW "workspace-cow" /* where the overlay is mounted */

/* Mount the overlay of container `id` over `folder` (unless mounted); *served (malloc'd)
 * receives the folder the workspace view is to serve. */
int dcfs_prebuild_workspace_mount(dcfs_store *s, const char *id, const char *folder,
				  char **served, dcfs_error *e);

/* Container `id` is stopped: drop the `workspaces` row the view kept for its overlay (the
 * overlay goes with the container, so nothing would ever update or remove it). The view's
 * daemon writes its last counts as it exits, after the unmount: this waits (a few seconds at
 * most) for that before the row is deleted. */
int dcfs_prebuild_workspace_forget(dcfs_store *s, const char *id, dcfs_error *e);
