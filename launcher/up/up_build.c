/* A Dockerfile configuration's image for `up`: the store's build with the same build key
 * (launcher/build/build_key.h), or a new build by a real builder (builder.h) recorded under
 * `localhost/dcfs-build/<folder>:<key>`; older builds of the configuration that no container
 * uses go when a new one is recorded. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_key.h"
#include "build_table.h"
#include "builder.h"
#include "cleanup.h"
#include "image_list.h"
#include "image_table.h"
#include "up_internal.h"

/* The store's name for a build of `folder` with `key`: the folder's last name, lowercased, with
 * what a reference cannot hold turned into '-'. malloc'd. */
static char *build_ref(const char *folder, const char *key)
{
	const char *base = strrchr(folder, '/');
	base = base && base[1] ? base + 1 : folder;
	char slug[64];
	size_t n = 0;
	for (const char *p = base; *p && n < sizeof(slug) - 1; p++) {
		unsigned char c = (unsigned char)tolower((unsigned char)*p);
		bool ok = isalnum(c) || ((c == '.' || c == '_' || c == '-') && n > 0);
		if (ok)
			slug[n++] = (char)c;
		else if (n > 0 && slug[n - 1] != '-')
			slug[n++] = '-';
	}
	while (n > 0 && !isalnum((unsigned char)slug[n - 1]))
		n--;
	slug[n] = '\0';
	char *ref = NULL;
	if (asprintf(&ref, "localhost/dcfs-build/%s:%.12s", n ? slug : "folder", key) < 0)
		return NULL;
	return ref;
}

/* Earlier builds of this configuration that no container uses go (as `docker build` leaves a
 * replaced tag's image dangling, but nothing could ever name these again). */
static void drop_stale(up_ctx *u, int64_t keep)
{
	char **refs = NULL;
	size_t n = 0;
	_cleanup_error_ dcfs_error err = {0};
	if (dcfs_build_refs_of_config(u->s->db, u->d.config_file, keep, &refs, &n, &err) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		_cleanup_error_ dcfs_error why = {0};
		if (dcfs_image_remove(u->s, refs[i], &why) < 0 && why.code != EBUSY)
			dcfs_report_warning(u->o->report, "cannot remove the earlier build %s: %s",
					    refs[i], why.msg ? why.msg : "");
		free(refs[i]);
	}
	free(refs);
}

static int build(up_ctx *u, const dcfs_build_spec *b, const char *key, char **ref)
{
	dcfs_error *e = u->e;
	dcfs_builder_kind want = DCFS_BUILDER_AUTO, kind;
	int r;
	if (u->o->builder && (r = dcfs_builder_parse(u->o->builder, &want, e)) < 0)
		return r;
	if ((r = dcfs_builder_choose(want, &kind, e)) < 0)
		return dcfs_error_wrap(e, "%s", b->dockerfile);
	if (!(*ref = build_ref(u->d.folder, key)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	dcfs_report_progress(u->o->report, "Building %s with %s (build key %.12s)...",
			     b->dockerfile, dcfs_builder_name(kind), key);
	dcfs_build_opts bo = {.builder = kind, .pull = u->o->pull_base, .report = u->o->report};
	dcfs_build_result br = {0};
	if ((r = dcfs_build_run(u->s, b, *ref, &bo, &br, e)) < 0)
		return r;
	if ((r = dcfs_build_record(u->s->db, key, br.image_id, u->d.config_file,
				   dcfs_builder_name(br.builder), e)) < 0)
		return r;
	dcfs_report_note(u->o->report,
			 "built %s with %s in %.1f s; stored as %s: %zu layers (%zu already stored), "
			 "imported %.1f MB in %.2f s",
			 b->dockerfile, dcfs_builder_name(br.builder), br.build_seconds, *ref,
			 br.layers, br.reused, (double)br.bytes / 1e6, br.import_seconds);
	drop_stale(u, br.image_id);
	return 0;
}

/* A Dockerfile configuration's spec, key and stored build: 0 for a configuration that builds
 * nothing; 1 with *b and key filled and *ref the stored build's name, or NULL when there is none. */
static int stored_build(dcfs_store *s, const dcfs_devcontainer *d, dcfs_build_spec *b,
			char key[65], char **ref, dcfs_error *e)
{
	*ref = NULL;
	int r = dcfs_build_spec_read(d, b, e);
	if (r <= 0)
		return r;
	int64_t id = 0;
	if ((r = dcfs_build_key(b, key, e)) < 0 || (r = dcfs_build_find(s->db, key, &id, e)) <= 0)
		return r < 0 ? r : 1;
	_cleanup_(dcfs_image_row_free) dcfs_image_row im = {0};
	if ((r = dcfs_image_lookup_id(s, id, &im, e)) < 0)
		return r;
	*ref = TAKE_PTR(im.ref);
	return 1;
}

int dcfs_up_built_image(dcfs_store *s, const dcfs_devcontainer *d, char **ref, dcfs_error *e)
{
	_cleanup_(dcfs_build_spec_free) dcfs_build_spec b = {0};
	char key[65];
	int r = stored_build(s, d, &b, key, ref, e);
	return r < 0 ? r : *ref != NULL;
}

int up_ensure_build(up_ctx *u)
{
	_cleanup_(dcfs_build_spec_free) dcfs_build_spec b = {0};
	int r = stored_build(u->s, &u->d, &b, u->build_key, &u->build_ref, u->e);
	if (r <= 0 || u->build_ref)
		return r;
	if (u->o->no_pull) { /* only which image (rebuild --full's plan): none built yet */
		u->build_ref = build_ref(u->d.folder, u->build_key);
		return u->build_ref ? 1 : dcfs_error_set(u->e, ENOMEM, "out of memory");
	}
	return build(u, &b, u->build_key, &u->build_ref) ?: 1;
}
