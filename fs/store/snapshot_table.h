/* The owner of the catalog table `snapshots`: every statement that reads or writes it is in
 * snapshot_table.c, behind these functions (see doc/store.md, "Who owns which table"). Taking a
 * snapshot (ingesting its layer) is fs/layer/snapshot.h's. Functions return >= 0 or -errno with
 * a message in `e`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "error.h"
#include "store.h"

typedef struct dcfs_snapshot_meta {
	const char *base_ref, *base_digest;
	const char *folder, *config_file;
	const char *key, *config_hash, *build_hash; /* the prebuild key and its parts */
	const char *stage;  /* the last lifecycle command that had run: "updateContentCommand" */
	const char *origin; /* "prebuild" or "snapshot" */
	const char *workspace_tree;  /* the git tree the prebuild's folder was at, or NULL/"" */
	/* a prebuild's changes to its workspace (an overlay upper directory), stored as a layer of
	 * the snapshot's own that is not part of its root; NULL: none */
	const char *workspace_upper;
} dcfs_snapshot_meta;

typedef struct dcfs_snapshot {
	int64_t image_id;
	char *ref, *base_ref, *base_digest, *folder, *config_file;
	char *key, *config_hash, *build_hash, *stage, *origin;
	int64_t created_ns;
	bool reclaimable;
	uint64_t size;  /* bytes of the snapshot's own layer */
	char *used_by;  /* the name of a container made from it, or NULL */
	char *workspace_tree;	 /* the git tree of its folder, or "" */
	int64_t workspace_layer; /* its workspace changes (0: none stored) */
	uint64_t workspace_size; /* bytes of that layer */
} dcfs_snapshot;

/* Record the `snapshots` row of image `ref` (already recorded, of kind "snapshot"), created now,
 * with `m` and workspace layer `ws_layer` (0: none). */
int dcfs_snapshot_insert(sqlite3 *db, const char *ref, const dcfs_snapshot_meta *m,
			 int64_t ws_layer, dcfs_error *e);

/* Record the `snapshots` row of image `ref` (made a snapshot from the labels of its config, as
 * dcfs_snapshot_adopt does), created at `created_ns`, unless it has one. */
int dcfs_snapshot_insert_from_labels(sqlite3 *db, const char *ref, int64_t created_ns,
				     dcfs_error *e);

/* All snapshots, grouped by configuration file, newest first within each. */
int dcfs_snapshot_list(dcfs_store *s, dcfs_snapshot **out, size_t *n, dcfs_error *e);

/* The newest prebuild snapshot with prebuild key `key`, or (key NULL) of configuration file
 * `config_file`: 0 with *out filled, -ENOENT when there is none. */
int dcfs_snapshot_find(dcfs_store *s, const char *key, const char *config_file,
		       dcfs_snapshot *out, dcfs_error *e);

/* The newest prebuild snapshot of a configuration with hash `config_hash`, from any folder
 * (another checkout of the same repository): -ENOENT when there is none. */
int dcfs_snapshot_find_config(dcfs_store *s, const char *config_hash, dcfs_snapshot *out,
			      dcfs_error *e);

/* Keep the newest `keep` prebuild snapshots of `config_file`; mark the others reclaimable.
 * *released (optional) receives how many were newly marked. */
int dcfs_snapshot_retain(dcfs_store *s, const char *config_file, int keep, int *released,
			 dcfs_error *e);

/* fsck: call `fn` with the id of each image of kind "snapshot" without a `snapshots` row
 * (`missing` true) and of each `snapshots` row whose image is not a snapshot (false). */
int dcfs_snapshot_check(sqlite3 *db, void (*fn)(bool missing, int64_t image_id, void *u), void *u,
			dcfs_error *e);

void dcfs_snapshot_free(dcfs_snapshot *sn);
void dcfs_snapshot_list_free(dcfs_snapshot *list, size_t n);
