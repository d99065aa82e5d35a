/* Shared by the files of launcher/build that run a builder and read its image: running a
 * builder's command for its output, and the two ways of reading a built image into the store. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "builder.h"
#include "error.h"
#include "layer_writer.h"
#include "store.h"

/* The program of a builder kind: "podman", "buildah" or "docker". */
const char *dcfs_build_program(dcfs_builder_kind k);
/* Whether `prog` is an executable file in a folder of $PATH. */
bool dcfs_build_on_path(const char *prog);

/* Run `argv` (stdin /dev/null) and collect its standard output into *out (malloc'd, NUL
 * terminated). 0 when it exits 0; -ETIMEDOUT (it is killed) when it runs past `timeout_ms`
 * (0: no limit); -EIO when it fails, with `e` naming the command and its last stderr line. */
int dcfs_build_capture(char *const argv[], int timeout_ms, char **out, dcfs_error *e);

/* Run the build of `b` with builder `k`, tagged `tag`: its output streams to o->report, and
 * the built image's ID (64 hex digits) lands in `id`. */
int dcfs_build_exec(dcfs_store *s, dcfs_builder_kind k, const dcfs_build_spec *b, const char *tag,
		    const dcfs_build_opts *o, char id[65], dcfs_error *e);

/* Read the built image `id` from the builder's overlay storage into the store as image `name`
 * (the fast path). -EXDEV (e untouched or filled) when the image is not stored in a way this
 * reads (another storage driver, a buildah without podman, overlay metacopy or redirects): the
 * caller takes the slow path then. */
int dcfs_build_export_overlay(dcfs_store *s, dcfs_builder_kind k, const char *id, const char *name,
			      dcfs_build_result *res, dcfs_error *e);
/* Read the built image `id` as the builder pushes it out (an OCI image in a folder of the
 * store's staging area, removed afterwards) into the store as image `name` (the slow path). */
int dcfs_build_export_push(dcfs_store *s, dcfs_builder_kind k, const char *id, const char *name,
			   dcfs_build_result *res, dcfs_error *e);
/* One layer: reused when a layer of `source` ("diff:sha256:...") is stored, else read by
 * `read` from `path` (a diff folder or a tar) and committed with that source. */
int dcfs_build_layer(dcfs_store *s, const char *source, const char *path,
		     int (*read)(dcfs_layer_writer *in, const char *path, dcfs_error *e),
		     int64_t *layer_id, dcfs_build_result *res, dcfs_error *e);
/* The whole file `path` into *out (malloc'd, NUL terminated), at most `max` bytes. */
int dcfs_build_read_file(const char *path, size_t max, char **out, size_t *len, dcfs_error *e);
