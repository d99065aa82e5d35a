/* Running a real image builder on a build spec and bringing what it built into the store.
 *
 * The builders: `podman build`, `buildah build` (Debian packages podman, buildah) or `docker
 * build` where a Docker engine answers. The builder's output streams, line by line, to the
 * report's `output` labelled "[build] "; a failed build is one error naming the failing
 * instruction and its exit code. The built image is then read into the store as ordinary layers
 * (each keyed by its diff ID: a layer already stored is not read again) with the builder's image
 * config (Env, User, WorkingDir, Cmd, Entrypoint, Labels, ...); a failure records no image. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "build_spec.h"
#include "error.h"
#include "report.h"
#include "store.h"

typedef enum dcfs_builder_kind {
	DCFS_BUILDER_AUTO = 0, /* podman, else docker when its engine answers, else buildah */
	DCFS_BUILDER_PODMAN,
	DCFS_BUILDER_BUILDAH,
	DCFS_BUILDER_DOCKER,
} dcfs_builder_kind;

/* "podman", "buildah", "docker" (and "auto") to a kind: 0, or -EINVAL with `e` naming it. */
int dcfs_builder_parse(const char *name, dcfs_builder_kind *out, dcfs_error *e);
const char *dcfs_builder_name(dcfs_builder_kind k);

/* The builder to use: `want`, which must be installed, or the automatic choice. When none is
 * there, the error names the Debian packages that provide one. */
int dcfs_builder_choose(dcfs_builder_kind want, dcfs_builder_kind *out, dcfs_error *e);

typedef struct dcfs_build_opts {
	dcfs_builder_kind builder; /* AUTO: dcfs_builder_choose's */
	bool pull;		   /* pull base images afresh (`rebuild --full`) */
	const dcfs_report *report; /* the builder's output and notes; NULL: none shown */
} dcfs_build_opts;

typedef struct dcfs_build_result {
	dcfs_builder_kind builder; /* the builder that ran */
	int64_t image_id;	   /* the image recorded in the store */
	size_t layers, reused;	   /* its layers, and of them already stored */
	uint64_t bytes;		   /* bytes of the layers read into the store */
	double build_seconds, import_seconds;
} dcfs_build_result;

/* Build `b` and record the result in the store as image `ref` (a name dcfs_ref_parse accepts;
 * an image of that name is replaced). */
int dcfs_build_run(dcfs_store *s, const dcfs_build_spec *b, const char *ref,
		   const dcfs_build_opts *o, dcfs_build_result *res, dcfs_error *e);
