/* Making an image from a directory or a tarball (plain, gzip, zstd, xz or bzip2). */
#pragma once

#include "error.h"
#include "ingest.h"
#include "store.h"

/* Import `src` as a one-layer image `ref`. On success *stats (optional) receives the figures. */
int dcfs_import(dcfs_store *s, const char *src, const char *ref, dcfs_ingest_stats *stats,
		dcfs_error *e);

/* The readers behind it: each feeds every entry of its source to `in`. */
int dcfs_import_read_dir(dcfs_ingest *in, const char *dir, dcfs_error *e);
int dcfs_import_read_tar(dcfs_ingest *in, const char *file, dcfs_error *e);
