/* Image references: `[registry/]path[:tag][@sha256:digest]`, as Docker and the OCI distribution
 * spec write them. */
#pragma once

#include "error.h"

typedef struct dcfs_ref {
	char *registry;   /* NULL for Docker Hub */
	char *repository; /* "library/busybox" for Docker Hub's official images */
	char *tag;        /* "latest" when neither tag nor digest is given; NULL with a digest only */
	char *digest;     /* "sha256:<hex>" or NULL */
} dcfs_ref;

/* Parse and check a reference; errors name it. */
int dcfs_ref_parse(const char *text, dcfs_ref *out, dcfs_error *e);

/* The short form the store keys images by, as `docker images` shows it: Docker Hub's host and
 * `library/` are dropped ("busybox:latest", "ghcr.io/a/b:1", "x@sha256:..."). malloc'd. */
char *dcfs_ref_name(const dcfs_ref *r);

void dcfs_ref_free(dcfs_ref *r);
