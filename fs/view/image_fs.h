/* The read-only root filesystem view of an image, served from the store over FUSE. */
#pragma once

#include "mount.h"
#include "store.h"

typedef struct dcfs_image_fs dcfs_image_fs;

/* Load image `ref`'s merged tree. The store stays open for quarantining bad chunks. */
int dcfs_image_fs_new(dcfs_store *s, const char *ref, dcfs_image_fs **out, dcfs_error *e);
const struct fuse_lowlevel_ops *dcfs_image_fs_ops(void);
void dcfs_image_fs_free(dcfs_image_fs *fs);
