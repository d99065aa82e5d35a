/* What git says about a folder's checkout: the tree a prebuild's workspace changes depend on,
 * and whether a file is the checkout's as committed (so a prebuild's version may replace it). */
#pragma once

#include <stdbool.h>

#include "error.h"

/* HEAD^{tree} of the git repository `folder` is in (out: 72 bytes, hex), or "" when it is in
 * none (or git is not installed, or the repository has no commit yet). Uncommitted changes do
 * not count. Fails only when git could not be run at all for another reason. */
int dcfs_git_tree(const char *folder, char out[72], dcfs_error *e);

/* Whether `path` (relative to `folder`) is tracked and unchanged from HEAD in the folder's
 * repository: not modified, not untracked, not ignored. */
bool dcfs_git_file_clean(const char *folder, const char *path);
