/* A configuration's features resolved (see feature.h): each key of `features` parsed, fetched,
 * read and its options checked; the dependsOn of every feature added the same way (breadth
 * first) unless a feature with the same resource and equal options is there already; then put
 * in install order. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature.h"
#include "jsonc.h"

/* More than this many features is a dependsOn chain that does not end. */
#define MAX_FEATURES 256

typedef struct resolver {
	dcfs_store *s;
	const char *config_file;
	char *config_dir;
	bool insecure;
	dcfs_report *report;
	dcfs_feature *v;
	size_t n, cap;
} resolver;

void dcfs_feature_free(dcfs_feature *f)
{
	if (!f)
		return;
	dcfs_feature_source_free(&f->src);
	free(f->folder);
	free(f->digest);
	cJSON_Delete(f->json);
	cJSON_Delete(f->values);
	cJSON_Delete(f->env);
	*f = (dcfs_feature){0};
}

void dcfs_features_free(dcfs_feature *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++)
		dcfs_feature_free(&f[i]);
	free(f);
}

/* The parsed, fetched and read feature `key` with options `given`, into *f. */
static int load(resolver *rs, const char *key, const cJSON *given, bool added, dcfs_feature *f,
		dcfs_error *e)
{
	*f = (dcfs_feature){.added = added};
	int r = dcfs_feature_source_parse(key, added ? NULL : rs->config_dir, &f->src, e);
	if (r >= 0 && f->src.kind == DCFS_FEATURE_OCI && !strchr(key, '/'))
		dcfs_report_warning(rs->report, "feature \"%s\" is a deprecated short name: write "
				    "\"%s\"", key, f->src.location);
	if (r >= 0)
		r = dcfs_feature_fetch(rs->s, &f->src, rs->insecure, rs->report, &f->folder,
				       &f->digest, e);
	if (r >= 0)
		r = dcfs_feature_read(f->folder, &f->json, e);
	if (r >= 0)
		r = dcfs_feature_options(f->json, given, key, rs->report, &f->values, &f->env, e);
	if (r >= 0) {
		f->id = cJSON_GetObjectItemCaseSensitive(f->json, "id")->valuestring;
		f->version = cJSON_GetObjectItemCaseSensitive(f->json, "version")->valuestring;
	}
	if (r < 0)
		dcfs_feature_free(f);
	return r;
}

/* Two keys that name one feature with the same content and options. */
static bool same(const dcfs_feature *a, const dcfs_feature *b)
{
	return !strcmp(a->src.resource, b->src.resource) && !strcmp(a->digest, b->digest) &&
	       cJSON_Compare(a->values, b->values, true);
}

static int add(resolver *rs, const char *key, const cJSON *given, bool added, dcfs_error *e)
{
	if (rs->n == MAX_FEATURES)
		return dcfs_error_set(e, E2BIG, "more than %d features (a dependsOn chain that "
				      "does not end?)", MAX_FEATURES);
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 8;
		dcfs_feature *v = realloc(rs->v, cap * sizeof(*v));
		if (!v)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		rs->v = v;
		rs->cap = cap;
	}
	dcfs_feature *f = &rs->v[rs->n];
	int r = load(rs, key, given, added, f, e);
	if (r < 0)
		return r;
	for (size_t j = 0; j < rs->n; j++)
		if (same(&rs->v[j], f)) { /* "x:1" and "x" naming one artifact: installed once */
			dcfs_feature_free(f);
			return 0;
		}
	rs->n++;
	return 0;
}

/* A dependsOn `key` (options `given`) that no feature present satisfies: added. */
static int add_dependency(resolver *rs, const char *owner, const char *key, const cJSON *given,
			  dcfs_error *e)
{
	dcfs_feature_source src = {0};
	int r = dcfs_feature_source_parse(key, NULL, &src, e);
	for (size_t j = 0; r >= 0 && j < rs->n; j++)
		if (dcfs_feature_matches(&rs->v[j], &src, given)) {
			dcfs_feature_source_free(&src);
			return 0;
		}
	dcfs_feature_source_free(&src);
	if (r >= 0)
		r = add(rs, key, given, true, e);
	return r < 0 ? dcfs_error_wrap(e, "dependsOn of \"%s\"", owner) : 0;
}

static int add_configured(resolver *rs, const cJSON *features, dcfs_error *e)
{
	if (!cJSON_IsObject(features))
		return dcfs_error_set(e, EINVAL, "\"features\" must be an object");
	for (const cJSON *it = features->child; it; it = it->next) {
		if (!cJSON_IsObject(it) && !cJSON_IsString(it) && !cJSON_IsTrue(it))
			return dcfs_error_set(e, EINVAL, "\"features\": \"%s\" must be an object "
					      "of options, a version string or true", it->string);
		int r = add(rs, it->string, it, false, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_dependencies(resolver *rs, dcfs_error *e)
{
	for (size_t i = 0; i < rs->n; i++) { /* rs->n grows as dependencies are added */
		const cJSON *deps = cJSON_GetObjectItemCaseSensitive(rs->v[i].json, "dependsOn");
		for (const cJSON *d = deps ? deps->child : NULL; d; d = d->next) {
			int r = add_dependency(rs, rs->v[i].src.written, d->string, d, e);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* rs->v rearranged into install order. */
static int put_in_order(resolver *rs, const cJSON *config, dcfs_error *e)
{
	_cleanup_free_ size_t *order = calloc(rs->n + 1, sizeof(*order));
	dcfs_feature *sorted = calloc(rs->n + 1, sizeof(*sorted));
	if (!order || !sorted) {
		free(sorted);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	const cJSON *over = cJSON_GetObjectItemCaseSensitive(config, "overrideFeatureInstallOrder");
	int r = dcfs_feature_order(rs->v, rs->n, over, order, e);
	if (r < 0) {
		free(sorted);
		return r;
	}
	for (size_t i = 0; i < rs->n; i++)
		sorted[i] = rs->v[order[i]];
	free(rs->v);
	rs->v = sorted;
	rs->cap = rs->n + 1;
	return 0;
}

int dcfs_features_resolve(dcfs_store *s, const cJSON *config, const char *config_file,
			  bool insecure, dcfs_report *report, dcfs_feature **out, size_t *n,
			  dcfs_error *e)
{
	*out = NULL;
	*n = 0;
	const cJSON *features = cJSON_GetObjectItemCaseSensitive(config, "features");
	if (!features || cJSON_IsNull(features))
		return 0;
	_cleanup_free_ char *copy = strdup(config_file);
	if (!copy)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	resolver rs = {.s = s, .config_file = config_file, .config_dir = dirname(copy),
		       .insecure = insecure, .report = report};
	int r = add_configured(&rs, features, e);
	if (r >= 0)
		r = add_dependencies(&rs, e);
	if (r >= 0)
		r = put_in_order(&rs, config, e);
	if (r < 0) {
		dcfs_features_free(rs.v, rs.n);
		return dcfs_error_wrap(e, "%s", config_file);
	}
	*out = rs.v;
	*n = rs.n;
	return 0;
}
