/* The layer builder's shared state, for layer_writer.c (files and chunks), layer_writer_entry.c (the
 * index being built) and layer_writer_commit.c (publishing and recording). Not an API. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "blob_table.h"
#include "chunk_table.h"
#include "chunk_writer.h"
#include "hash.h"
#include "layer_writer.h"
#include "map.h"

#define PACK_SMALL (64u * 1024)
#define NONE ((size_t)-1)

typedef struct entry {
	char *path;
	char type;
	bool opaque, implicit, has_children;
	uint32_t mode, uid, gid;
	int64_t mtime_ns;
	uint64_t size, rdev;
	char *target;
	unsigned char *xattrs;
	size_t xattrs_len;
	size_t blob; /* index into blobs, or NONE */
} entry;

typedef struct chunkref {
	dcfs_hash hash; /* for a pack: set when the pack is flushed */
	int64_t id;     /* catalog id, filled at commit */
} chunkref;

typedef struct extent {
	uint64_t file_off;
	size_t chunk; /* index into chunks */
	uint32_t chunk_off, len;
} extent;

typedef struct blob {
	dcfs_hash hash;
	uint64_t size;
	size_t first_extent, nextents; /* into extents; nextents 0 with id > 0: already in the store */
	int64_t id;                    /* catalog id when it already exists */
	bool used;
	bool heal; /* it exists but a chunk of it is quarantined: replace its extents */
} blob;

/* The file whose data is arriving. */
typedef struct current {
	size_t entry; /* NONE when no file is open */
	bool small;
	uint64_t next_off, data_bytes;
	size_t first_extent;
	uint32_t pack_start; /* small files: where the file's bytes start in the pack */
	bool holes;
	dcfs_hasher hasher;
	/* large files: the chunk being filled */
	unsigned char *cbuf;
	uint32_t clen;
	uint64_t coff;
} current;

struct dcfs_layer_writer {
	dcfs_store *store;
	const char *what;
	dcfs_chunk_writer *writer;
	dcfs_chunk_finder find_chunk;
	dcfs_blob_finder find_blob;

	entry *entries;
	size_t nentries, entries_cap;
	dcfs_map paths; /* path -> entry index */

	blob *blobs;
	size_t nblobs, blobs_cap;
	dcfs_map blob_map; /* hash -> blob index */

	extent *extents;
	size_t nextents, extents_cap;

	chunkref *chunks;
	size_t nchunks, chunks_cap;
	dcfs_map chunk_map; /* hash -> chunk index (chunks known present or staged) */

	unsigned char *pack;
	uint32_t pack_len;
	size_t pack_chunk; /* chunk index of the open pack, NONE when none */
	size_t pack_first_extent; /* the first extent that may point into the open pack */

	current cur;
	dcfs_layer_writer_stats stats;
};

#define GROW(arr, n, cap)                                                                          \
	({                                                                                         \
		int _r = 0;                                                                        \
		if ((n) == (cap)) {                                                                \
			size_t _c = (cap) ? (cap) * 2 : 64;                                        \
			void *_p = realloc((arr), _c * sizeof(*(arr)));                            \
			if (_p) {                                                                  \
				(arr) = _p;                                                        \
				(cap) = _c;                                                        \
			} else {                                                                   \
				_r = -ENOMEM;                                                      \
			}                                                                          \
		}                                                                                  \
		_r;                                                                                \
	})


int ingest_oom(dcfs_error *e);
/* Finish the open file (if any): flush its last chunk and record or reuse its blob. */
int ingest_close_file(dcfs_layer_writer *in, dcfs_error *e);
/* Turn the open pack into a chunk. */
int ingest_flush_pack(dcfs_layer_writer *in, dcfs_error *e);
/* Start a pack for a small file of `size` bytes when the open one has no room. */
int ingest_make_room(dcfs_layer_writer *in, uint64_t size, dcfs_error *e);
/* Begin receiving the data of regular file entry `entry_idx`. */
void ingest_open_file(dcfs_layer_writer *in, size_t entry_idx, uint64_t size);
/* Make sure every ancestor of `path` is a directory (creating missing ones). */
int ingest_ensure_parents(dcfs_layer_writer *in, const char *path, dcfs_error *e);
void ingest_entry_release(entry *en);
/* Close the last file and pack, give the layer its root, publish the chunks durably, sort the
 * index by path and mark the blobs the final entries use (layer_writer_commit.c). */
int ingest_finish(dcfs_layer_writer *in, dcfs_error *e);
/* Finish, then record the layer (and, when `ref` is given, a one-layer image of it) in one
 * transaction (layer_writer_commit.c). */
int ingest_commit_layer(dcfs_layer_writer *in, const char *source, const char *ref, const char *kind,
			const char *config_json, int64_t *layer_id, dcfs_error *e);

/* Shared by layer_writer_commit.c and layer_writer_layer_only.c, once the entries are sorted and the used blobs
 * marked; the inserts run inside the caller's transaction. */
/* The layer digest: a SHA-256 over the sorted index, content by blob hash. */
void ingest_layer_digest(dcfs_layer_writer *in, char out[8 + DCFS_HASH_HEX]);
/* Record the staged chunks. */
int ingest_insert_chunks(dcfs_layer_writer *in, dcfs_error *e);
/* Record the blobs and the layer with its entries (or find the layer of the same digest). */
int ingest_insert_layer(dcfs_layer_writer *in, const char *digest, const char *source, int64_t *layer_id,
			dcfs_error *e);
