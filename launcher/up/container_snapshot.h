/* A container's snapshot: its overlay upper directory stored as a layer over the image it was
 * made from (fs/layer/snapshot.h), with the prebuild key its configuration had when `up` created it
 * (saved in STORE/containers/<id>/key) and the last lifecycle stage that ran in it. A running
 * container is frozen (`runc pause`) while its upper directory is read, and resumed even when
 * the snapshot is killed (a guardian child watches). A prebuild's container that ran on a
 * copy-on-write workspace (prebuild_workspace.h) also gets its workspace changes stored. */
#pragma once

#include "container.h"
#include "layer_writer.h"
#include "prebuild_key.h"

/* Save `key` for the container `id` (called by `up` when it creates one). */
int dcfs_container_save_key(dcfs_store *s, const char *id, const dcfs_prebuild_key *key,
			    dcfs_error *e);

typedef struct dcfs_container_snapshot_opts {
	const char *tag;    /* the snapshot's name; NULL: dcfs-snapshots/<folder name>:<origin>-<time> */
	const char *origin; /* "prebuild" or "snapshot" */
	const char *stage;  /* NULL: the last run-once command whose marker is set */
	const char *folder; /* the dev container's folder; NULL: the container's own */
} dcfs_container_snapshot_opts;

/* Snapshot container `c`; *ref (malloc'd) receives the snapshot's name. */
int dcfs_container_snapshot(dcfs_store *s, const dcfs_container *c,
			    const dcfs_container_snapshot_opts *o, char **ref,
			    dcfs_layer_writer_stats *stats, dcfs_error *e);
