/* A client for the OCI distribution API (pull only) over libcurl: manifests and blobs of one
 * repository, with anonymous, Basic and Bearer-token authentication.
 *
 * Plain HTTP is used for loopback registries (localhost, 127.0.0.0/8, [::1]) or when the caller
 * asks for it; HTTPS otherwise. Credentials come from $DCFS_REGISTRY_AUTH ("user:password") or
 * from the `auths` of ~/.docker/config.json ($DOCKER_CONFIG/config.json). Every byte received is
 * checked against the digest it was asked for. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cleanup.h"
#include "error.h"
#include "ref.h"

typedef struct dcfs_registry dcfs_registry;

/* A response body, NUL-terminated. */
typedef struct dcfs_http_body {
	char *data;
	size_t len, cap;
} dcfs_http_body;

/* A client for `ref`'s registry and repository. */
int dcfs_registry_open(const dcfs_ref *ref, bool insecure, dcfs_registry **out, dcfs_error *e);
/* Another client for the same repository with the same credentials and answered challenge
 * (for another thread). */
int dcfs_registry_clone(const dcfs_registry *r, dcfs_registry **out, dcfs_error *e);
void dcfs_registry_free(dcfs_registry *r);
DEFINE_TRIVIAL_CLEANUP(dcfs_registry *, dcfs_registry_free)
#define _cleanup_registry_ _cleanup_(dcfs_registry_freep)

/* GET the manifest (or index) `reference` (a tag or "sha256:..."), accepting the OCI and Docker
 * schema 2 types. *media_type (malloc'd) is the response's Content-Type. With a digest, the body
 * is checked against it. */
int dcfs_registry_manifest(dcfs_registry *r, const char *reference, dcfs_http_body *out,
			   char **media_type, dcfs_error *e);

/* GET a small blob (an image config) whole, checked against `digest`. */
int dcfs_registry_blob(dcfs_registry *r, const char *digest, dcfs_http_body *out, dcfs_error *e);

/* A blob read as it downloads, its SHA-256 computed on the way. */
typedef struct dcfs_blob_reader dcfs_blob_reader;

/* `size` (0: unknown) is the size the manifest gives: a longer blob is refused as it arrives. */
int dcfs_blob_reader_open(dcfs_registry *r, const char *digest, uint64_t size,
			  dcfs_blob_reader **out, dcfs_error *e);
/* The next bytes (valid until the next call): their count, 0 at the end once the digest has
 * been checked, or -errno (a failed transfer, an HTTP error, a digest mismatch). */
ssize_t dcfs_blob_reader_read(dcfs_blob_reader *b, const void **buf, dcfs_error *e);
/* Read what is left (the padding after a tar archive's end) and check the digest. */
int dcfs_blob_reader_finish(dcfs_blob_reader *b, dcfs_error *e);
/* Bytes received so far. */
uint64_t dcfs_blob_reader_bytes(const dcfs_blob_reader *b);
/* From another thread: make a read in progress (or the next one) fail soon with ECANCELED,
 * rather than wait on a slow network. */
void dcfs_blob_reader_interrupt(dcfs_blob_reader *b);
void dcfs_blob_reader_free(dcfs_blob_reader *b);
DEFINE_TRIVIAL_CLEANUP(dcfs_blob_reader *, dcfs_blob_reader_free)

void dcfs_http_body_free(dcfs_http_body *b);
