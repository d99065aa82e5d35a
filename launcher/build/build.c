/* dcfs_build_run (see builder.h): choose the builder, run the build tagged with the store's name
 * for the image (so the builder's image is findable by it), then read the built image into the
 * store: from the builder's overlay storage when it can (build_export.c), else through a push
 * (build_export_push.c). A failure records no image; layers already committed stay, to be
 * reused by the next build or reclaimed by the garbage collection. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build_internal.h"
#include "cleanup.h"
#include "image_table.h"
#include "ref.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The tag given to the builder: the store's name for the image, lowercased, with any character
 * a builder refuses in a tag made '-'. malloc'd. */
static char *builder_tag(const char *name)
{
	char *tag = strdup(name);
	for (char *p = tag; p && *p; p++) {
		*p = (char)tolower((unsigned char)*p);
		if (!isalnum((unsigned char)*p) && !strchr("._-/:", *p))
			*p = '-';
	}
	return tag;
}

static int choose(const dcfs_build_spec *b, const dcfs_build_opts *o, dcfs_builder_kind *k,
		  dcfs_error *e)
{
	int r = dcfs_builder_choose(o->builder, k, e);
	if (r == -ENOENT && o->builder == DCFS_BUILDER_AUTO)
		return dcfs_error_set(e, ENOENT, "no image builder found to build %s: install one "
				      "(Debian packages podman, buildah or docker.io)", b->dockerfile);
	return r;
}

/* The built image `id` into the store as `name`: the fast path, else the slow one. */
static int export(dcfs_store *s, dcfs_builder_kind k, const char *id, const char *name,
		  const dcfs_build_opts *o, dcfs_build_result *res, dcfs_error *e)
{
	int r = dcfs_build_export_overlay(s, k, id, name, res, e);
	if (r != -EXDEV)
		return r;
	if (k == DCFS_BUILDER_DOCKER)
		return dcfs_error_wrap(e, "cannot read the image docker built");
	dcfs_report_note(o->report, "reading the built image through %s push (%s)",
			 dcfs_build_program(k), e && e->msg ? e->msg : "not on overlay");
	dcfs_error_clear(e);
	return dcfs_build_export_push(s, k, id, name, res, e);
}

int dcfs_build_run(dcfs_store *s, const dcfs_build_spec *b, const char *ref,
		   const dcfs_build_opts *o, dcfs_build_result *res, dcfs_error *e)
{
	*res = (dcfs_build_result){0};
	_cleanup_(dcfs_ref_free) dcfs_ref parsed = {0};
	int r = dcfs_ref_parse(ref, &parsed, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *name = dcfs_ref_name(&parsed);
	_cleanup_free_ char *tag = name ? builder_tag(name) : NULL;
	if (!tag)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if ((r = choose(b, o, &res->builder, e)) < 0)
		return r;
	char id[65];
	double t0 = now_s();
	if ((r = dcfs_build_exec(s, res->builder, b, tag, o, id, e)) < 0)
		return r;
	double t1 = now_s();
	res->build_seconds = t1 - t0;
	if ((r = export(s, res->builder, id, name, o, res, e)) < 0)
		return dcfs_error_wrap(e, "reading the image %s built", dcfs_build_program(res->builder));
	res->import_seconds = now_s() - t1;
	_cleanup_(dcfs_image_row_free) dcfs_image_row row = {0};
	if ((r = dcfs_image_lookup(s, name, &row, e)) < 0)
		return r;
	res->image_id = row.id;
	return 0;
}
