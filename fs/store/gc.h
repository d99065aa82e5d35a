/* Reclaiming space: rows nothing refers to, the chunk files behind them, and chunk files the
 * catalog never recorded (left by an import that died). Needs the store opened EXCLUSIVE. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

typedef struct dcfs_gc_stats {
	uint64_t layers, blobs, chunks, chunk_bytes; /* rows removed, stored bytes freed */
	uint64_t orphans, orphan_bytes;               /* chunk files without a row */
} dcfs_gc_stats;

/* Remove unreferenced layers, blobs and chunks (rows first, in one transaction, then files).
 * With `orphans`, also remove chunk files that have no row. Adds to *st. */
int dcfs_gc(dcfs_store *s, bool orphans, dcfs_gc_stats *st, dcfs_error *e);

struct dcfs_image_info;

/* What the caller says of an eviction: `may_evict` (NULL: every image may go) is asked
 * before a precious image (image_list.h) is removed; `evicted` (or NULL) hears of each removal. */
typedef struct dcfs_gc_evict {
	bool (*may_evict)(const struct dcfs_image_info *im, void *u);
	void (*evicted)(const char *ref, void *u);
	void *u;
} dcfs_gc_evict;

/* Evict least recently used images until the stored chunk bytes are at most `max`. */
int dcfs_gc_max_size(dcfs_store *s, uint64_t max, const dcfs_gc_evict *how, dcfs_gc_stats *st,
		     dcfs_error *e);
