/* Checking the store: every chunk's hash, every reference count, every sum; with `repair`,
 * fixing what can be fixed (sums, reference counts, dangling rows) and quarantining bad chunks.
 * Needs the store opened EXCLUSIVE when repairing. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "report.h"
#include "store.h"

typedef struct dcfs_fsck_report {
	uint64_t chunks, chunk_bytes;      /* checked */
	uint64_t problems;                 /* found (after repair: found and not fixable) */
	uint64_t repaired;
	uint64_t orphans, orphan_bytes;    /* chunk files no row points at: reclaimable, not damage */
} dcfs_fsck_report;

/* Each finding is a note of `findings` (may be NULL). Returns 0 when the check ran (look at
 * rep->problems). */
int dcfs_fsck(dcfs_store *s, bool repair, const dcfs_report *findings, dcfs_fsck_report *rep,
	      dcfs_error *e);
