/* The owner of the catalog's `layers` and `entries` tables: a layer's row (its digest, where it
 * came from, its counts) and its file index, one entry per path. The layer writer records them
 * (fs/layer/layer_writer_commit.c); push and a prebuild's workspace read a layer's entries back
 * through an iterator; du, gc and fsck ask the questions below. The merged index and the root
 * view read entries through their own owners' queries. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "error.h"

/* ---- layers ---- */

/* A layer row to insert; `created` is set to the current time. */
typedef struct dcfs_layer_row {
	const char *digest, *source;
	int64_t entries, files, size;
} dcfs_layer_row;

/* 1 with the id of the layer with `digest` in *id; 0 (and *id 0) when there is none. */
int dcfs_layer_find_by_digest(sqlite3 *db, const char *digest, int64_t *id, dcfs_error *e);

/* 1 with the id of a layer recorded from `source` in *id; 0 (and *id 0) when there is none. */
int dcfs_layer_find_by_source(sqlite3 *db, const char *source, int64_t *id, dcfs_error *e);

/* Insert a layer row (unreferenced); its id in *id. */
int dcfs_layer_insert(sqlite3 *db, const dcfs_layer_row *row, int64_t *id, dcfs_error *e);

/* Delete the layers nothing references (their entries go with them); how many in *deleted. */
int dcfs_layer_delete_unreferenced(sqlite3 *db, uint64_t *deleted, dcfs_error *e);

/* ---- what `dcfs du` asks ---- */

/* Bytes of the layers that snapshots hold (their image layers and workspace layers) and no
 * image of kind `image` lists. */
int dcfs_layer_bytes_of_snapshots_only(sqlite3 *db, int64_t *bytes, dcfs_error *e);

/* Bytes of the layers of the images that containers were made from. */
int dcfs_layer_bytes_used_by_containers(sqlite3 *db, int64_t *bytes, dcfs_error *e);

/* Bytes of the referenced layers that only retired (reclaimable) snapshots no container uses
 * hold, a snapshot's workspace layer included. */
int dcfs_layer_bytes_of_reclaimable_snapshots(sqlite3 *db, int64_t *bytes, dcfs_error *e);

/* ---- what `dcfs fsck` checks ---- */

/* A count each layer row records. */
typedef enum dcfs_layer_count {
	DCFS_LAYER_REFS,    /* images listing it plus snapshots whose workspace layer it is */
	DCFS_LAYER_SIZE,    /* bytes of its regular files */
	DCFS_LAYER_ENTRIES, /* its entries */
} dcfs_layer_count;

typedef int (*dcfs_layer_count_fn)(int64_t id, int64_t recorded, int64_t actual, void *u);

/* `each(id, recorded, actual, u)` for every layer whose count `which` differs from the one
 * recomputed from the rows. A negative return of `each` stops and is returned. */
int dcfs_layer_count_mismatches(sqlite3 *db, dcfs_layer_count which, dcfs_layer_count_fn each,
				void *u, dcfs_error *e);

/* Set layer `id`'s count `which` to `value`. */
int dcfs_layer_count_set(sqlite3 *db, dcfs_layer_count which, int64_t id, int64_t value,
			 dcfs_error *e);

typedef int (*dcfs_layer_sum_fn)(const char *name, int64_t value, void *u);

/* The sums the triggers keep for the layers, recomputed from the rows: `each(name, value, u)`
 * for `layers`, `layer_bytes`, `layers_unref` and `layer_unref_bytes`, in that order. */
int dcfs_layer_sums(sqlite3 *db, dcfs_layer_sum_fn each, void *u, dcfs_error *e);

/* ---- entries ---- */

/* One entry as the catalog stores it (see entry.h for the types). Strings and attributes are
 * borrowed: a row an iterator gives is valid until its next step. */
typedef struct dcfs_entry_row {
	const char *path;
	char type;
	uint32_t mode, uid, gid;
	int64_t mtime_ns;
	uint64_t size, rdev;
	const char *target;   /* NULL when none */
	bool opaque;
	const void *xattrs;   /* NULL when none */
	size_t xattrs_len;
	int64_t blob_id;      /* 0 when it has no content */
	int64_t layer_id;     /* filled by the readers of whole trees (dcfs_entry_row_read) */
} dcfs_entry_row;

/* Inserting the entries of one layer (inside the caller's transaction). */
typedef struct dcfs_entry_writer {
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t layer_id;
} dcfs_entry_writer;

int dcfs_entry_writer_open(sqlite3 *db, int64_t layer_id, dcfs_entry_writer *w, dcfs_error *e);
int dcfs_entry_writer_add(dcfs_entry_writer *w, const dcfs_entry_row *en, dcfs_error *e);
void dcfs_entry_writer_free(dcfs_entry_writer *w);

/* Which entries of a layer an iterator gives. */
typedef enum dcfs_entry_select {
	DCFS_ENTRIES_ALL,
	DCFS_ENTRIES_NOT_HARDLINKS,
	DCFS_ENTRIES_HARDLINKS,
} dcfs_entry_select;

/* A layer's entries in path order. */
typedef struct dcfs_entry_iter {
	sqlite3_stmt *st;
	dcfs_entry_row row;
} dcfs_entry_iter;

int dcfs_entry_iter_open(sqlite3 *db, int64_t layer_id, dcfs_entry_select which,
			 dcfs_entry_iter *it, dcfs_error *e);
/* 1 with it->row filled, 0 after the last entry, -errno on an error. */
int dcfs_entry_iter_next(dcfs_entry_iter *it, dcfs_error *e);
void dcfs_entry_iter_free(dcfs_entry_iter *it);

typedef int (*dcfs_entry_fn)(const dcfs_entry_row *en, void *u, dcfs_error *e);

/* `each(entry, u, e)` for every entry of a layer, in path order with hardlinks last (after
 * their targets), as a tar stream or a checkout wants them. A negative return of `each` stops
 * and is returned. */
int dcfs_entry_each_links_last(sqlite3 *db, int64_t layer_id, dcfs_entry_fn each, void *u,
			       dcfs_error *e);

/* `each(layer_id, u)` for every regular file entry with bytes but no content. */
int dcfs_entry_files_without_content(sqlite3 *db, int (*each)(int64_t layer_id, void *u), void *u,
				     dcfs_error *e);

/* An entry whose size is wrong: out of what a layer may hold (not an integer, negative, above
 * DCFS_LAYER_BYTES_MAX, or its content missing), or not its content's size. */
typedef struct dcfs_entry_size_problem {
	int64_t layer_id;
	const char *path;
	bool out_of_range;
	const char *size_text; /* the recorded size as text */
	int64_t size, content_size;
} dcfs_entry_size_problem;

int dcfs_entry_size_problems(sqlite3 *db, int (*each)(const dcfs_entry_size_problem *p, void *u),
			     void *u, dcfs_error *e);

/* Delete the entries whose layer or content row is missing (sqlite3_total_changes() counts them). */
int dcfs_entry_drop_dangling(sqlite3 *db, dcfs_error *e);

/* The columns dcfs_entry_row_read() reads, in order, for the entry queries of fs/store. */
#define DCFS_ENTRY_ROW_COLUMNS(e) \
	e "path, " e "type, " e "mode, " e "uid, " e "gid, " e "mtime_ns, " e "size, " e "target, " \
	e "rdev, " e "xattrs, " e "blob_id, " e "layer_id"

/* Read a row of DCFS_ENTRY_ROW_COLUMNS into *row (borrowed strings; `opaque` is not read). */
void dcfs_entry_row_read(sqlite3_stmt *st, dcfs_entry_row *row);

/* Finding the entry a hardlink of a layer points at (no hardlink, folder or whiteout itself):
 * the root view adopts a hidden target with it. */
typedef struct dcfs_link_targets {
	sqlite3_stmt *st;
} dcfs_link_targets;

int dcfs_link_targets_open(dcfs_link_targets *f, sqlite3 *db, dcfs_error *e);
/* 1 with *row (valid until the next find), 0 when the layer has no such entry, or -errno. */
int dcfs_link_targets_find(dcfs_link_targets *f, int64_t layer_id, const char *path,
			   dcfs_entry_row *row, dcfs_error *e);
void dcfs_link_targets_free(dcfs_link_targets *f);
