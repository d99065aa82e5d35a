/* `dcfs push`: an image from the store to an OCI registry, as an ordinary OCI image.
 *
 * Each layer of the image is written as a pax tar stream from its catalog entries (file data
 * read back from the chunks), compressed with zstd or gzip into a temporary file while both its
 * compressed digest and its uncompressed diff_id are computed; then the blob is uploaded unless
 * the registry has it already (HEAD), in chunks (POST, PATCH with Content-Range, PUT ?digest=).
 * A layer pushed before is not written again when the registry has its blob, or can mount it
 * from another of its repositories that was pushed to (push_memo.h).
 * The image's stored config, with rootfs.diff_ids set to the layers' diff_ids, and an OCI image
 * manifest follow. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

typedef enum dcfs_push_compression {
	DCFS_PUSH_ZSTD,
	DCFS_PUSH_GZIP,
} dcfs_push_compression;

typedef struct dcfs_push_opts {
	bool insecure; /* plain HTTP to any registry */
	dcfs_push_compression compression;
} dcfs_push_opts;

typedef struct dcfs_push_result {
	char manifest[8 + 64]; /* digest of the manifest pushed */
	size_t layers, uploaded; /* layers, and blobs (layers and config) the registry lacked */
	size_t mounted;          /* layer blobs mounted from another repository of the registry */
	uint64_t bytes;          /* bytes uploaded */
} dcfs_push_result;

/* Push image `src` of the store to `ref_text`; errors name the reference. */
int dcfs_push(dcfs_store *s, const char *src, const char *ref_text, const dcfs_push_opts *o,
	      dcfs_push_result *res, dcfs_error *e);
