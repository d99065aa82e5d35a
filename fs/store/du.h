/* The figures behind `dcfs du`, read from the catalog's sums (never from the trees). */
#pragma once

#include <stdint.h>

#include "error.h"
#include "store.h"

typedef struct dcfs_du_row {
	uint64_t total, active, size, reclaimable;
} dcfs_du_row;

typedef struct dcfs_du {
	dcfs_du_row images, snapshots, containers, volumes, workspaces, chunks;
	uint64_t chunk_plain, chunk_stored; /* compression */
	uint64_t logical, unique;           /* deduplication: bytes images hold vs distinct contents */
	uint64_t unref_layers, unref_layer_bytes; /* layers no image holds (a replaced tag): prune */
} dcfs_du;

int dcfs_du_read(dcfs_store *s, dcfs_du *out, dcfs_error *e);
