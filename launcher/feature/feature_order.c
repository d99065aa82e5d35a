/* The install order of resolved features, in rounds as the spec's "Installation Order" and the
 * reference CLI compute it: each round takes the features whose dependsOn (hard: a feature with
 * the same resource and equal options) and installsAfter (soft: any feature with the same
 * resource, among those present) are all installed; of those, only the ones with the highest
 * roundPriority (overrideFeatureInstallOrder: the first entry highest) go, sorted by resource
 * name. A round with no candidate is a cycle. Unlike the reference CLI (devcontainers/cli issue
 * 1200), a feature's priority is passed on to what it waits for, so that a feature named in
 * the override goes as early as its dependencies allow and features named later do not pass
 * it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature.h"
#include "jsonc.h"
#include "strbuf.h"

/* One dependency of feature `owner`: match[j] when f[j] satisfies it. */
typedef struct edge {
	size_t owner;
	bool hard;
	const char *name; /* as written in dependsOn / installsAfter */
	bool *match;
} edge;

typedef struct graph {
	const dcfs_feature *f;
	size_t n;
	edge *v;
	size_t ne, cap;
	int *prio;
} graph;

static void graph_free(graph *g)
{
	for (size_t i = 0; i < g->ne; i++)
		free(g->v[i].match);
	free(g->v);
	free(g->prio);
}

bool dcfs_feature_matches(const dcfs_feature *fj, const dcfs_feature_source *src,
			  const cJSON *given)
{
	if (strcmp(fj->src.resource, src->resource))
		return false;
	_cleanup_json_ cJSON *values = NULL;
	_cleanup_error_ dcfs_error ignored = {0};
	if (dcfs_feature_options(fj->json, given, src->written, NULL, &values, NULL, &ignored) < 0)
		return false;
	return cJSON_Compare(values, fj->values, true);
}

static int add_edge(graph *g, size_t owner, bool hard, const char *name, const cJSON *given,
		    dcfs_error *e)
{
	dcfs_feature_source src = {0};
	_cleanup_error_ dcfs_error soft_error = {0};
	int r = dcfs_feature_source_parse(name, NULL, &src, hard ? e : &soft_error);
	if (r < 0 && !hard) /* names no feature that can be present: nothing to wait for */
		return 0;
	if (r < 0)
		return dcfs_error_wrap(e, "feature \"%s\": dependsOn", g->f[owner].src.written);
	bool *match = calloc(g->n, sizeof(*match));
	edge *v = g->ne < g->cap ? g->v : realloc(g->v, (g->cap = 2 * g->cap + 8) * sizeof(*v));
	if (!match || !v) {
		free(match);
		dcfs_feature_source_free(&src);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	g->v = v;
	bool any = false;
	for (size_t j = 0; j < g->n; j++) {
		match[j] = hard ? dcfs_feature_matches(&g->f[j], &src, given)
				: j != owner && !strcmp(g->f[j].src.resource, src.resource);
		any |= match[j];
	}
	dcfs_feature_source_free(&src);
	if (!any && hard) {
		free(match);
		return dcfs_error_set(e, ENOENT, "feature \"%s\" depends on \"%s\", which is not "
				      "among the features", g->f[owner].src.written, name);
	}
	if (!any) { /* a soft dependency on a feature not present: nothing to wait for */
		free(match);
		return 0;
	}
	g->v[g->ne++] = (edge){.owner = owner, .hard = hard, .name = name, .match = match};
	return 0;
}

static int add_edges(graph *g, size_t i, dcfs_error *e)
{
	const cJSON *deps = cJSON_GetObjectItemCaseSensitive(g->f[i].json, "dependsOn");
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(g->f[i].json, "installsAfter");
	int r = 0;
	for (const cJSON *d = cJSON_IsObject(deps) ? deps->child : NULL; d && r >= 0; d = d->next)
		r = add_edge(g, i, true, d->string, d, e);
	for (const cJSON *a = cJSON_IsArray(after) ? after->child : NULL; a && r >= 0; a = a->next)
		if (cJSON_IsString(a))
			r = add_edge(g, i, false, a->valuestring, NULL, e);
	return r;
}

/* f[j] is what the override entry names: its key as written, or its resource. */
static bool override_names(const dcfs_feature *fj, const char *entry)
{
	if (!strcmp(fj->src.written, entry))
		return true;
	dcfs_feature_source src = {0};
	_cleanup_error_ dcfs_error ignored = {0};
	if (dcfs_feature_source_parse(entry, NULL, &src, &ignored) < 0)
		return false;
	bool same = !strcmp(fj->src.resource, src.resource);
	dcfs_feature_source_free(&src);
	return same;
}

static int set_priorities(graph *g, const cJSON *order, dcfs_error *e)
{
	if (!order || cJSON_IsNull(order))
		return 0;
	if (!cJSON_IsArray(order))
		return dcfs_error_set(e, EINVAL, "\"overrideFeatureInstallOrder\" must be an array "
				      "of strings");
	int count = cJSON_GetArraySize(order), k = 0;
	for (const cJSON *it = order->child; it; it = it->next, k++) {
		if (!cJSON_IsString(it))
			return dcfs_error_set(e, EINVAL, "\"overrideFeatureInstallOrder\" must be an "
					      "array of strings");
		bool any = false;
		for (size_t j = 0; j < g->n; j++)
			if (override_names(&g->f[j], it->valuestring)) {
				any = true;
				if (g->prio[j] < count - k)
					g->prio[j] = count - k;
			}
		if (!any)
			return dcfs_error_set(e, EINVAL, "\"overrideFeatureInstallOrder\": \"%s\" "
					      "names none of the features", it->valuestring);
	}
	return 0;
}

/* What a feature waits for gets its priority, transitively. */
static void pass_priorities(graph *g)
{
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t k = 0; k < g->ne; k++)
			for (size_t j = 0; j < g->n; j++)
				if (g->v[k].match[j] && g->prio[j] < g->prio[g->v[k].owner]) {
					g->prio[j] = g->prio[g->v[k].owner];
					changed = true;
				}
	}
}

static bool ready(const graph *g, size_t i, const bool *installed)
{
	for (size_t k = 0; k < g->ne; k++) {
		if (g->v[k].owner != i)
			continue;
		bool ok = false;
		for (size_t j = 0; j < g->n && !ok; j++)
			ok = g->v[k].match[j] && installed[j];
		if (!ok)
			return false;
	}
	return true;
}

/* Whether `to` is reached from `from` through what features not yet installed wait for
 * (`seen`: n flags, cleared by the caller). */
static bool reaches(const graph *g, const bool *installed, size_t from, size_t to, bool *seen)
{
	for (size_t k = 0; k < g->ne; k++) {
		if (g->v[k].owner != from)
			continue;
		for (size_t j = 0; j < g->n; j++) {
			if (!g->v[k].match[j] || installed[j] || seen[j])
				continue;
			seen[j] = true;
			if (j == to || reaches(g, installed, j, to, seen))
				return true;
		}
	}
	return false;
}

/* The features left that wait for themselves (the others left wait for those). */
static int cycle_error(const graph *g, const bool *installed, dcfs_error *e)
{
	dcfs_strbuf b = {0};
	_cleanup_free_ char *unused = NULL;
	_cleanup_free_ bool *seen = calloc(g->n, sizeof(*seen));
	int r = seen ? 0 : -ENOMEM;
	for (size_t i = 0; i < g->n && r >= 0; i++) {
		if (installed[i])
			continue;
		memset(seen, 0, g->n * sizeof(*seen));
		if (!reaches(g, installed, i, i, seen))
			continue;
		_cleanup_free_ char *one = NULL;
		if (asprintf(&one, "%s\"%s\"", b.len ? ", " : "", g->f[i].src.written) < 0)
			r = -ENOMEM;
		else
			r = dcfs_strbuf_put(&b, one, strlen(one));
	}
	unused = b.s;
	if (r < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return dcfs_error_set(e, ELOOP, "features depend on each other in a cycle (dependsOn or "
			      "installsAfter): %s", b.s ? b.s : "");
}

/* Ties within a round: by resource, then as written. */
static int tie_order(const dcfs_feature *f, size_t a, size_t b)
{
	int c = strcmp(f[a].src.resource, f[b].src.resource);
	if (!c)
		c = strcmp(f[a].src.written, f[b].src.written);
	return c ? c : (a > b) - (a < b);
}

/* One round: the ready features of the highest priority appended to order[*done...]. */
static size_t round_take(const graph *g, bool *installed, size_t *order, size_t done)
{
	int best = -1;
	for (size_t i = 0; i < g->n; i++)
		if (!installed[i] && ready(g, i, installed) && g->prio[i] > best)
			best = g->prio[i];
	size_t start = done;
	for (size_t i = 0; i < g->n && best >= 0; i++)
		if (!installed[i] && g->prio[i] == best && ready(g, i, installed))
			order[done++] = i;
	for (size_t i = start; i < done; i++) /* insertion sort: rounds are short */
		for (size_t k = i; k > start && tie_order(g->f, order[k - 1], order[k]) > 0; k--) {
			size_t t = order[k];
			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	for (size_t i = start; i < done; i++)
		installed[order[i]] = true;
	return done;
}

int dcfs_feature_order(const dcfs_feature *f, size_t n, const cJSON *override_order,
		       size_t *order, dcfs_error *e)
{
	graph g = {.f = f, .n = n, .prio = calloc(n + 1, sizeof(int))};
	_cleanup_free_ bool *installed = calloc(n + 1, sizeof(bool));
	int r = g.prio && installed ? 0 : dcfs_error_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < n && r >= 0; i++)
		r = add_edges(&g, i, e);
	if (r >= 0)
		r = set_priorities(&g, override_order, e);
	if (r >= 0)
		pass_priorities(&g);
	for (size_t done = 0; r >= 0 && done < n;) {
		size_t next = round_take(&g, installed, order, done);
		if (next == done)
			r = cycle_error(&g, installed, e);
		done = next;
	}
	graph_free(&g);
	return r < 0 ? r : 0;
}
