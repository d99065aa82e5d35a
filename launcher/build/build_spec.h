/* What a Dockerfile configuration asks to build: `build.dockerfile`, `build.context`,
 * `build.args`, `build.target`, `build.options`, `build.cacheFrom` and the legacy top-level
 * `dockerFile` and `context`, read from the configuration after substitution, with the paths made
 * absolute the way the reference CLI makes them (relative to the folder of devcontainer.json). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "devcontainer.h"
#include "error.h"

typedef struct dcfs_build_spec {
	char *dockerfile; /* absolute */
	char *context;	  /* absolute; the Dockerfile's folder's "." when none is given */
	char **args;	  /* "NAME=VALUE", in the configuration's order */
	size_t n_args;
	char *target; /* NULL: the last stage */
	char **options; /* passed to the builder as written, after dcfs's own flags */
	size_t n_options;
	char **cache_from; /* --cache-from values */
	size_t n_cache_from;
} dcfs_build_spec;

/* 1 with *out filled when the configuration of `d` builds from a Dockerfile, 0 (and *out
 * zeroed) when it does not (an image or Compose configuration). Errors name the configuration
 * file and the property (a Dockerfile that is not there, a context that is not a folder). */
int dcfs_build_spec_read(const dcfs_devcontainer *d, dcfs_build_spec *out, dcfs_error *e);
void dcfs_build_spec_free(dcfs_build_spec *b);
