/* The store directory: its layout, its lock, its staging area and its catalog.
 *
 *   STORE/catalog.db            the SQLite catalog
 *   STORE/chunks/ab/<sha256>    one zstd frame per chunk
 *   STORE/tmp/<writer>/         staging, one folder per writing process, removed when stale
 *   STORE/quarantine/<sha256>   chunks that failed verification
 *   STORE/lock                  flock: writers share it, garbage collection takes it alone
 */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>

#include "cleanup.h"

#include "error.h"
#include "hash.h"

typedef enum dcfs_store_mode {
	DCFS_STORE_READ,      /* queries only */
	DCFS_STORE_WRITE,     /* adds objects; runs beside other writers */
	DCFS_STORE_EXCLUSIVE, /* removes objects (rmi, prune, fsck --repair); waits for writers */
} dcfs_store_mode;

typedef struct dcfs_store {
	char *root;
	int root_fd;
	int chunks_fd;
	int tmp_fd; /* this process's staging folder, -1 in READ mode */
	char *tmp_path;
	int lock_fd;
	sqlite3 *db;
} dcfs_store;

/* The store path from --store, else $DCFS_STORE, else the built-in default. */
const char *dcfs_store_default_path(const char *option);

int dcfs_store_open(const char *root, dcfs_store_mode mode, dcfs_store **out, dcfs_error *e);
void dcfs_store_close(dcfs_store *s);
DEFINE_TRIVIAL_CLEANUP(dcfs_store *, dcfs_store_close)
#define _cleanup_store_ _cleanup_(dcfs_store_closep)

/* "ab/<hex>": the chunk's path relative to chunks/. `out` must hold 3 + DCFS_HASH_HEX bytes. */
void dcfs_store_chunk_name(const dcfs_hash *h, char out[3 + DCFS_HASH_HEX]);
