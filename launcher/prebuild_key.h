/* The prebuild key of a configuration: which snapshot a new container may start from.
 *
 * Three parts, each a SHA-256 in hex: the configuration (normalized and substituted, keys
 * sorted, without postCreateCommand, postStartCommand and postAttachCommand, which run after a
 * prebuild anyway), the build inputs (the Dockerfile when the configuration names one), and the
 * base image's digest. The key is the hash of the three; keeping the parts lets `up` say which
 * one differed when no snapshot matched. */
#pragma once

#include "devcontainer.h"
#include "error.h"
#include "hash.h"

typedef struct dcfs_prebuild_key {
	char key[DCFS_HASH_HEX], config_hash[DCFS_HASH_HEX], build_hash[DCFS_HASH_HEX];
	char base_digest[80];
} dcfs_prebuild_key;

int dcfs_prebuild_key_compute(const dcfs_devcontainer *d, const char *base_digest,
			      dcfs_prebuild_key *out, dcfs_error *e);
