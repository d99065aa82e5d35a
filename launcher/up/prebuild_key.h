/* The prebuild key of a configuration: which snapshot a new container may start from.
 *
 * Three parts, each a SHA-256 in hex: the configuration (normalized and substituted, keys
 * sorted, without postCreateCommand, postStartCommand and postAttachCommand, which run after a
 * prebuild anyway), the build inputs (a Dockerfile configuration's build key: the Dockerfile,
 * its context, args, target and options), and the
 * base image's digest. When the folder is a git repository a fourth part is the tree of its HEAD
 * (prebuild_git.h): a prebuild stores its changes to the workspace, which depend on the files
 * checked out. The key is the hash of the parts; keeping them lets `up` say which one differed
 * when no snapshot matched. */
#pragma once

#include "devcontainer.h"
#include "error.h"
#include "hash.h"

typedef struct dcfs_prebuild_key {
	char key[DCFS_HASH_HEX], config_hash[DCFS_HASH_HEX], build_hash[DCFS_HASH_HEX];
	char base_digest[80];
	char workspace_tree[72]; /* HEAD^{tree} of the folder's git repository, or "" */
} dcfs_prebuild_key;

/* d->folder set: its git tree becomes part of the key (none when it is no git repository).
 * `build_key`: a Dockerfile configuration's build key (launcher/build/build_key.h), which is then
 * the build part; NULL: the Dockerfile's bytes, when the configuration names one. */
int dcfs_prebuild_key_compute(const dcfs_devcontainer *d, const char *base_digest,
			      const char *build_key, dcfs_prebuild_key *out, dcfs_error *e);

/* The key of the parts in `k` (called by dcfs_prebuild_key_compute); without a workspace tree
 * it is what it was before workspaces were keyed. */
int dcfs_prebuild_key_combine(dcfs_prebuild_key *k, dcfs_error *e);
