/* Chunk files that no catalog row names: what an import that died before its commit leaves. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

/* Count (and with `remove`, delete) them, adding to *count and *bytes. Only safe to remove while
 * the store is held EXCLUSIVE: a running import's chunks have no row yet. */
int dcfs_store_orphans(dcfs_store *s, bool remove, uint64_t *count, uint64_t *bytes, dcfs_error *e);
