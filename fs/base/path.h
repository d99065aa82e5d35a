/* Paths inside an image: normalized to 'a/b' (no leading or trailing '/'), '' for the root. */
#pragma once

#include "error.h"

/* Normalize `in` (leading '/' and './', repeated '/' and '.' components are dropped). Fails with
 * -EPERM when a '..' component would leave the root. The result is malloc'd. */
int dcfs_path_normalize(const char *in, char **out);

/* The parent of a normalized path ('' for top-level names); malloc'd, NULL on ENOMEM. */
char *dcfs_path_parent(const char *path);

/* The last component of a normalized path (a pointer into `path`). */
const char *dcfs_path_base(const char *path);
