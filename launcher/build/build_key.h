/* The build key: what decides whether a Dockerfile build can be reused from the store. The
 * SHA-256 of the Dockerfile's bytes, every file of the context the builder would see (the
 * `.dockerignore` at the context's root, or `<Dockerfile>.dockerignore` beside the Dockerfile,
 * respected: path, type, mode, owner, symlink target and content of each), the build args, the
 * target and the options. cacheFrom does not change the result and is not in it. */
#pragma once

#include "build_spec.h"
#include "error.h"

/* The key of `b` as 64 hex digits and a NUL. Errors name the file that could not be read. */
int dcfs_build_key(const dcfs_build_spec *b, char out[65], dcfs_error *e);
