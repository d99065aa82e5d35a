/* The parts of dcfs_feature_fetch (feature_fetch*.c, feature_unpack.c, feature_digest_dir.c):
 * a local folder's digest, a feature tarball unpacked into the store, and the OCI and tarball
 * URL sources. Private to launcher/feature (and its unit tests). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "hash.h"
#include "registry.h"

/* The most bytes a feature's tarball (an OCI layer, a URL's body) may have, and the most its
 * files may hold once unpacked: published features are kilobytes. */
#define DCFS_FEATURE_MAX_TAR ((uint64_t)64 << 20)
#define DCFS_FEATURE_MAX_FILES ((uint64_t)512 << 20)
#define DCFS_FEATURE_MAX_ENTRIES 100000

/* "sha256:" and 64 hex digits. */
#define DCFS_FEATURE_DIGEST_LEN (7 + DCFS_HASH_HEX)

/* The digest of the folder `path`: a walk in bytewise name order through folder descriptors,
 * no symlink followed, hashing each entry's type, name, permission bits and content (a file's
 * bytes, a symlink's target) as length-prefixed records, so that no two trees hash alike. Other
 * file types are refused by name. */
int dcfs_feature_digest_dir(const char *path, char out[DCFS_FEATURE_DIGEST_LEN], dcfs_error *e);

/* The bytes of a tarball as they come: their count (buf valid until the next call), 0 at the
 * end, or -errno with `e` set. */
typedef ssize_t (*dcfs_feature_read_fn)(void *opaque, const void **buf, dcfs_error *e);
/* Called once the tarball has been read to its end, before the folder is published: the check
 * of the bytes' digest (0 or -errno). */
typedef int (*dcfs_feature_finish_fn)(void *opaque, dcfs_error *e);

typedef struct dcfs_feature_stream {
	dcfs_feature_read_fn read;
	dcfs_feature_finish_fn finish; /* may be NULL */
	void *opaque;
	const char *what; /* names the tarball in errors (a reference, a URL) */
} dcfs_feature_stream;

/* Unpack the tar stream (plain or gzip) into a new folder under `tmp_fd`, then rename it to
 * `name` under `dest_fd`. Only regular files, folders and symlinks; a name that is absolute,
 * holds "..", or passes through a symlink is refused, and nothing is written outside the
 * folder; the folder must hold devcontainer-feature.json. When `name` is already there (another
 * fetch won), the new folder is removed and the one there kept. */
int dcfs_feature_unpack(const dcfs_feature_stream *in, int tmp_fd, int dest_fd, const char *name,
			dcfs_error *e);

/* Whether `dest_fd` holds a complete unpacked feature `name` (its devcontainer-feature.json). */
bool dcfs_feature_unpacked(int dest_fd, const char *name);

/* OCI: the feature `reference` ("registry/path:tag" or "...@sha256:..."). Its manifest (an
 * image index is refused), the layer of type application/vnd.devcontainers.layer.v1+tar: its
 * digest in *digest, and, unless `dest_fd` already holds it, the layer unpacked there. Errors
 * that mean the registry could not be reached return -EHOSTUNREACH (the message says why). */
int dcfs_feature_fetch_oci(const char *reference, bool insecure, int tmp_fd, int dest_fd,
			   char digest[DCFS_FEATURE_DIGEST_LEN], dcfs_error *e);

/* TARBALL: the URL's bytes (https, or http to a loopback host; at most DCFS_FEATURE_MAX_TAR),
 * their digest in *digest, unpacked into `dest_fd` unless already there. A URL that could not be
 * reached is -EHOSTUNREACH. */
int dcfs_feature_fetch_url(const char *url, int tmp_fd, int dest_fd,
			   char digest[DCFS_FEATURE_DIGEST_LEN], dcfs_error *e);
