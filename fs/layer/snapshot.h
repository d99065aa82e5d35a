/* Snapshots: a container's overlay upper directory stored as one more layer over its image.
 *
 * A snapshot is an image of kind "snapshot" whose layers are its base image's and the new one,
 * so it mounts, pushes and is removed like any image; its row in the `snapshots` table says
 * what it was taken from (see doc/store.md). Prebuild snapshots are grouped per configuration
 * file, newest first; retention marks the older ones reclaimable and `dcfs prune` removes
 * them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "layer_writer.h"
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

/* Ingest `upper` (an overlay upper directory; nothing may write to it meanwhile) as a layer and
 * record snapshot `ref` over image `base_id`, with `m` (and m->workspace_upper as its workspace
 * layer), in one transaction after the chunks are
 * durable: until then nothing lists it. A name that is taken (an image or a snapshot) is
 * refused with -EEXIST.
 * *stats (optional) receives the ingest's figures. */
int dcfs_snapshot_take(dcfs_store *s, const char *upper, int64_t base_id, const char *ref,
		       const dcfs_snapshot_meta *m, dcfs_layer_writer_stats *stats, dcfs_error *e);

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

/* Image `ref` was pulled: when its config carries the labels of a dcfs snapshot (one pushed
 * from another store), make it a snapshot here, with the key and stage the labels give (no
 * folder or configuration file: it was made elsewhere), so that `up` can start from it.
 * *adopted tells whether it was one. */
int dcfs_snapshot_adopt(dcfs_store *s, const char *ref, bool *adopted, dcfs_error *e);

/* Remove the reclaimable snapshots no container was made from and no mount pins; calls
 * `removed` with each one's name. The caller then collects what they held (dcfs_gc). */
int dcfs_snapshot_prune(dcfs_store *s, void (*removed)(const char *ref, void *u), void *u,
			dcfs_error *e);

void dcfs_snapshot_free(dcfs_snapshot *sn);
void dcfs_snapshot_list_free(dcfs_snapshot *list, size_t n);
