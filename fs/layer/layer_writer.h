/* Building a layer: entries and file data go in, chunks and catalog rows come out.
 *
 * A reader (a directory walk, a tar stream, later a container's upper directory) calls
 * dcfs_layer_writer_add() for each entry and, for a regular file, dcfs_layer_writer_data() with its bytes in
 * increasing offsets (gaps are holes). Contents already in the store are recognised by hash and
 * not stored again; small files are packed together into shared chunks so that they compress as
 * well as a tarball; new chunks are compressed on worker threads. Nothing is visible in the
 * catalog until dcfs_layer_writer_commit(), which publishes the chunks durably and then records the
 * layer and the image in one transaction. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"
#include "hash.h"
#include "store.h"

typedef struct dcfs_entry_info {
	const char *path; /* as found in the source; normalized by the layer writer */
	char type;
	uint32_t mode; /* permission bits (07777) */
	uint32_t uid, gid;
	int64_t mtime_ns;
	uint64_t size;       /* regular files */
	const char *target;  /* symlink target, or hardlink target path */
	uint64_t rdev;       /* character and block devices */
	const void *xattrs;  /* dcfs_xattrs encoding, may be NULL */
	size_t xattrs_len;
} dcfs_entry_info;

typedef struct dcfs_layer_writer_stats {
	uint64_t entries, files, file_bytes;
	uint64_t new_chunks, new_plain_bytes, new_stored_bytes;
	uint64_t dedup_bytes; /* file bytes that were already in the store or earlier in this layer */
} dcfs_layer_writer_stats;

typedef struct dcfs_layer_writer dcfs_layer_writer;

/* `what` names the source in error messages ("tar entry", "file"). */
int dcfs_layer_writer_new(dcfs_store *s, const char *what, dcfs_layer_writer **out, dcfs_error *e);

/* The zstd level of the chunks this layer adds (default DCFS_CHUNK_LEVEL). */
void dcfs_layer_writer_set_level(dcfs_layer_writer *in, int level);

int dcfs_layer_writer_add(dcfs_layer_writer *in, const dcfs_entry_info *info, dcfs_error *e);
int dcfs_layer_writer_data(dcfs_layer_writer *in, uint64_t off, const void *buf, size_t len, dcfs_error *e);
/* Mark a directory as opaque (an overlay/OCI opaque whiteout). */
int dcfs_layer_writer_set_opaque(dcfs_layer_writer *in, const char *dir, dcfs_error *e);

/* Finish: publish the new chunks durably, then record the layer and a one-layer image `ref` of
 * `kind` ("image" or "snapshot") with `config_json` as its OCI config, in one transaction. An
 * existing image of the same name is replaced (its layers become reclaimable). */
int dcfs_layer_writer_commit(dcfs_layer_writer *in, const char *ref, const char *kind, const char *config_json,
		       const char *source, const dcfs_layer_writer_stats **stats, dcfs_error *e);

/* Finish as dcfs_layer_writer_commit() does, but record only the layer (no image), with `source`
 * naming where it came from ("blob:sha256:..." for a registry layer); *layer_id receives its id
 * (an existing layer of the same content is reused). dcfs_image_record() makes it part of an
 * image. */
int dcfs_layer_writer_commit_layer(dcfs_layer_writer *in, const char *source, int64_t *layer_id,
			     const dcfs_layer_writer_stats **stats, dcfs_error *e);

void dcfs_layer_writer_free(dcfs_layer_writer *in);
DEFINE_TRIVIAL_CLEANUP(dcfs_layer_writer *, dcfs_layer_writer_free)
#define _cleanup_ingest_ _cleanup_(dcfs_layer_writer_freep)
