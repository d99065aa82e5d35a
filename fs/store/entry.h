/* What a layer's entries are, as the catalog's `entries` table stores them: the entry types and
 * the bound on a layer's file bytes. Shared by what writes entries (fs/layer/) and what reads
 * them (the root view, fsck, push). */
#pragma once

#include <stdint.h>

/* Entry types, as stored in the catalog. */
enum {
	DCFS_T_FILE = 'f',
	DCFS_T_DIR = 'd',
	DCFS_T_SYMLINK = 'l',
	DCFS_T_HARDLINK = 'h',
	DCFS_T_CHAR = 'c',
	DCFS_T_BLOCK = 'b',
	DCFS_T_FIFO = 'p',
	DCFS_T_SOCKET = 's',
	DCFS_T_WHITEOUT = 'w',
};

/* The file bytes (holes included) one layer may hold: 1 PiB. Sizes are summed in the catalog as
 * signed 64-bit integers; a bound far below 2^63 keeps every sum of them exact. A file or layer
 * past it is refused. */
#define DCFS_LAYER_BYTES_MAX (UINT64_C(1) << 50)
