/* The read-only root filesystem view of an image, served from the store over FUSE. */
#pragma once

#include "mount.h"
#include "store.h"

typedef struct dcfs_root_view dcfs_root_view;

/* Load image `ref`'s merged tree. The store stays open for quarantining bad chunks. */
int dcfs_root_view_new(dcfs_store *s, const char *ref, dcfs_root_view **out, dcfs_error *e);
const struct fuse_lowlevel_ops *dcfs_root_view_ops(void);
void dcfs_root_view_free(dcfs_root_view *fs);
