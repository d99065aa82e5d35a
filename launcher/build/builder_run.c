/* Running the build: the builder's command line, its output (stdout and stderr in one pipe)
 * relayed line by line to the report as "[build] LINE" as it comes, the last lines kept, and a
 * failure said in one line (build_failure.c) naming the failing instruction and its exit code.
 *
 *   podman build -f DOCKERFILE --iidfile FILE [--target T] [--build-arg K=V]...
 *       [--cache-from X]... [--pull=always] OPTIONS... -t TAG CONTEXT
 *
 * `buildah build` takes the same flags; `docker build` the same but a plain `--pull` (the legacy
 * builder of Docker 20.10 writes --iidfile too). podman 4.3 and buildah 1.28 refuse a tagged
 * --cache-from (they take a repository), so such a cacheFrom value is left out for them with a
 * note. The image ID is read from the iidfile, made in the store's staging folder. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build_failure.h"
#include "build_internal.h"
#include "run_relayed.h"
#include "subprocess.h"
#include "cleanup.h"
#include "hash.h"

#define PREFIX "[build] "

typedef struct argv_list {
	char **v;
	size_t n, cap;
} argv_list;

static void argv_list_free(argv_list *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

/* Append a copy of `s`; NULL appends nothing but the terminator room. */
static int push(argv_list *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		char **v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->v = v, a->cap = cap;
	}
	if (!(a->v[a->n] = strdup(s)))
		return -ENOMEM;
	a->v[++a->n] = NULL;
	return 0;
}

static int push_each(argv_list *a, const char *flag, char *const *vals, size_t n)
{
	int r = 0;
	for (size_t i = 0; i < n && r >= 0; i++)
		r = (flag ? push(a, flag) : 0) < 0 ? -ENOMEM : push(a, vals[i]);
	return r;
}

/* Whether a cacheFrom value names a tag or digest: podman 4.3 and buildah 1.28 refuse those
 * ("repository must contain neither a tag nor digest"), Docker takes them. */
static bool tagged(const char *ref)
{
	const char *slash = strrchr(ref, '/');
	return strchr(ref, '@') || strchr(slash ? slash : ref, ':');
}

/* The --cache-from values for builder `k`; a tagged one is left out for podman and buildah, with
 * a note (the cache cannot change what is built). */
static int push_cache_from(argv_list *a, dcfs_builder_kind k, const dcfs_build_spec *b,
			   const dcfs_report *report)
{
	int r = 0;
	for (size_t i = 0; i < b->n_cache_from && r >= 0; i++) {
		if (k != DCFS_BUILDER_DOCKER && tagged(b->cache_from[i])) {
			dcfs_report_note(report, "cacheFrom '%s' left out: %s takes a repository "
					 "without a tag as --cache-from", b->cache_from[i],
					 dcfs_build_program(k));
			continue;
		}
		r = push(a, "--cache-from") < 0 ? -ENOMEM : push(a, b->cache_from[i]);
	}
	return r;
}

static int build_argv(dcfs_builder_kind k, const dcfs_build_spec *b, const char *tag,
		      const char *iidfile, const dcfs_build_opts *o, argv_list *a)
{
	int r = push(a, dcfs_build_program(k));
	r = r < 0 ? r : push(a, "build");
	r = r < 0 ? r : push(a, "-f");
	r = r < 0 ? r : push(a, b->dockerfile);
	r = r < 0 ? r : push(a, "--iidfile");
	r = r < 0 ? r : push(a, iidfile);
	if (b->target && r >= 0)
		r = push(a, "--target") < 0 ? -ENOMEM : push(a, b->target);
	r = r < 0 ? r : push_each(a, "--build-arg", b->args, b->n_args);
	r = r < 0 ? r : push_cache_from(a, k, b, o->report);
	if (o->pull && r >= 0)
		r = push(a, k == DCFS_BUILDER_DOCKER ? "--pull" : "--pull=always");
	r = r < 0 ? r : push_each(a, NULL, b->options, b->n_options);
	r = r < 0 ? r : push(a, "-t");
	r = r < 0 ? r : push(a, tag);
	return r < 0 ? r : push(a, b->context);
}

/* The failure in one line; the last lines as a note when the output was not shown. */
static int failed(dcfs_builder_kind k, const dcfs_build_spec *b, const dcfs_build_tail *t,
		  int code, const dcfs_report *report, dcfs_error *e)
{
	if (report && !report->output)
		for (size_t i = 0; i < t->n; i++)
			dcfs_report_note(report, PREFIX "%s", dcfs_build_tail_line(t, i));
	_cleanup_free_ char *why = dcfs_build_failure(t, code);
	return dcfs_error_set(e, EIO, "%s build of %s: %s", dcfs_build_program(k), b->dockerfile,
			      why ? why : "failed");
}

/* The image ID from the iidfile: "sha256:HEX" (or the bare hex). */
static int read_iid(const char *path, char id[65], dcfs_error *e)
{
	_cleanup_free_ char *text = NULL;
	int r = dcfs_build_read_file(path, 256, &text, NULL, e);
	if (r < 0)
		return dcfs_error_wrap(e, "the builder's image ID");
	const char *hex = strncmp(text, "sha256:", 7) ? text : text + 7;
	dcfs_hash h;
	if (strlen(hex) < 64 || (hex[64] && hex[64] != '\n') ||
	    !dcfs_hash_from_hex(strndupa(hex, 64), &h))
		return dcfs_error_set(e, EIO, "the builder wrote no image ID into '%s'", path);
	memcpy(id, hex, 64);
	id[64] = 0;
	return 0;
}

int dcfs_build_exec(dcfs_store *s, dcfs_builder_kind k, const dcfs_build_spec *b, const char *tag,
		    const dcfs_build_opts *o, char id[65], dcfs_error *e)
{
	_cleanup_free_ char *iidfile = NULL;
	if (asprintf(&iidfile, "%s/build-%d.iid", s->tmp_path, (int)getpid()) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	unlink(iidfile);
	_cleanup_(argv_list_free) argv_list a = {0};
	if (build_argv(k, b, tag, iidfile, o, &a) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_free_ dcfs_build_tail *tail = calloc(1, sizeof(*tail));
	if (!tail)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int code = dcfs_run_relayed(a.v, o->report, PREFIX, tail);
	if (code < 0)
		return dcfs_error_set(e, code, "cannot run %s: %s", a.v[0], strerror(-code));
	int r = code ? failed(k, b, tail, code, o->report, e) : read_iid(iidfile, id, e);
	unlink(iidfile);
	return r;
}
