/* Making an image from a directory or a tarball (plain, gzip, zstd, xz or bzip2). */
#pragma once

#include "error.h"
#include "layer_writer.h"
#include "store.h"

#include <sys/types.h>

struct archive;
struct archive_entry;

/* Import `src` as a one-layer image `ref`. On success *stats (optional) receives the figures. */
int dcfs_import(dcfs_store *s, const char *src, const char *ref, dcfs_layer_writer_stats *stats,
		dcfs_error *e);

/* The readers behind it: each feeds every entry of its source to `in`. */
int dcfs_import_read_dir(dcfs_layer_writer *in, const char *dir, dcfs_error *e);
int dcfs_import_read_tar(dcfs_layer_writer *in, const char *file, dcfs_error *e);
/* An overlay upper directory: whiteouts (0/0 character devices) and opaque directories
 * (trusted.overlay.opaque) become the layer's; overlayfs's other attributes are left out. */
int dcfs_import_read_upper(dcfs_layer_writer *in, const char *dir, dcfs_error *e);
/* An image layer's overlay diff folder (a builder's storage) read as read_upper reads one, but
 * without the folder itself as an entry: a layer's tar has no root entry, and the folder's own
 * mode is the storage's, not the image's. A metacopy or redirect attribute fails with -EXDEV. */
int dcfs_import_read_diff(dcfs_layer_writer *in, const char *dir, dcfs_error *e);

/* One tar entry (and, for a regular file, its data) from an open libarchive reader; OCI
 * whiteouts become whiteout entries and opaque directories. */
int dcfs_import_tar_entry(dcfs_layer_writer *in, struct archive *a, struct archive_entry *ae,
			  dcfs_error *e);

/* Every entry of the open reader `a` into `in`: 0, or -errno. A failure is explained by
 * `source_error(u, e)` when that gives one (-errno: the source of the bytes failed; may be
 * NULL), else named by `name` (NULL: not named). */
int dcfs_import_tar_entries(dcfs_layer_writer *in, struct archive *a, const char *name,
			    int (*source_error)(void *u, dcfs_error *e), void *u, dcfs_error *e);
/* libarchive's error reading the tar `name` (NULL: not named), at its first header or later. */
int dcfs_import_tar_error(struct archive *a, const char *name, bool first, dcfs_error *e);

/* A source of tar bytes: sets *buf to the next bytes and returns their count, 0 at the end, or
 * -errno with `e` filled. */
typedef ssize_t (*dcfs_tar_read_fn)(void *opaque, const void **buf, dcfs_error *e);
/* Called from another thread when the import gives up: the read in progress should return soon
 * (with an error). */
typedef void (*dcfs_tar_interrupt_fn)(void *opaque);

/* Feed every entry of a tar stream (plain, gzip, zstd, xz or bzip2) read from `read` to `in`.
 * The source is read, and a gzip stream inflated, on a thread of its own while this one parses
 * and ingests; `interrupt` (may be NULL) stops a read in progress when the import fails. On
 * success the source has been read to its end (so a digest it checks has been checked). `name`
 * (may be NULL) names the stream in errors. */
int dcfs_import_read_tar_stream(dcfs_layer_writer *in, const char *name, dcfs_tar_read_fn read,
				dcfs_tar_interrupt_fn interrupt, void *opaque, dcfs_error *e);
