/* What dcfs made in engines, for `dcfs du`: the engines this store used (remembered in
 * STORE/engines, a line "KIND HOST" each, and those its containers name), and in each the
 * containers and volumes labelled dcfs.store=<this store>: a container's size is the engine's
 * SizeRw, a volume's the bytes of the files under its mount point. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "container.h"
#include "jsonc.h"

static char *engines_file(dcfs_store *s)
{
	char *p = NULL;
	return asprintf(&p, "%s/engines", s->root) < 0 ? NULL : p;
}

/* The remembered engines as an array of [kind, host]. */
static cJSON *remembered(dcfs_store *s)
{
	cJSON *out = cJSON_CreateArray();
	_cleanup_free_ char *path = engines_file(s);
	_cleanup_fclose_ FILE *f = path ? fopen(path, "re") : NULL;
	char line[PATH_MAX + 32], kind[16], host[PATH_MAX + 16];
	while (out && f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%15s %4111s", kind, host) == 2) {
			cJSON *pair = cJSON_CreateArray();
			cJSON_AddItemToArray(pair, cJSON_CreateString(kind));
			cJSON_AddItemToArray(pair, cJSON_CreateString(host));
			cJSON_AddItemToArray(out, pair);
		}
	return out;
}

static bool known(const cJSON *pairs, const char *kind, const char *host)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, pairs)
	{
		const char *k = cJSON_GetStringValue(cJSON_GetArrayItem(p, 0));
		const char *h = cJSON_GetStringValue(cJSON_GetArrayItem(p, 1));
		if (k && h && !strcmp(k, kind) && !strcmp(h, host))
			return true;
	}
	return false;
}

int dcfs_engine_remember(dcfs_store *s, const char *kind, const char *host, dcfs_error *e)
{
	_cleanup_json_ cJSON *pairs = remembered(s);
	if (!pairs)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (known(pairs, kind, host))
		return 0;
	_cleanup_free_ char *path = engines_file(s);
	_cleanup_fclose_ FILE *f = path ? fopen(path, "ae") : NULL;
	if (!f || fprintf(f, "%s %s\n", kind, host) < 0)
		return dcfs_error_set(e, errno ? errno : EIO, "cannot write '%s': %m", path ?: "engines");
	return 0;
}

static int add_row(cJSON *out, const char *engine, const char *kind, const char *name,
		   double size)
{
	cJSON *row = cJSON_CreateObject();
	if (!row || !cJSON_AddStringToObject(row, "engine", engine) ||
	    !cJSON_AddStringToObject(row, "kind", kind) ||
	    !cJSON_AddStringToObject(row, "name", name) ||
	    !cJSON_AddNumberToObject(row, "size", size) || !cJSON_AddItemToArray(out, row)) {
		cJSON_Delete(row);
		return -ENOMEM;
	}
	return 0;
}

/* The containers and volumes of this store in one engine. */
static int usage_of(dcfs_engine *en, const char *label, cJSON *out, dcfs_error *e)
{
	const char *labels[] = {label, NULL};
	_cleanup_json_ cJSON *containers = NULL, *volumes = NULL;
	int r = dcfs_engine_list(en, labels, &containers, e);
	r = r ?: dcfs_engine_volume_list(en, labels, &volumes, e);
	if (r < 0)
		return r;
	const cJSON *it;
	cJSON_ArrayForEach(it, containers)
	{
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "Id"));
		const char *name = cJSON_GetStringValue(
			cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(it, "Names"), 0));
		_cleanup_json_ cJSON *info = NULL;
		if (!id || dcfs_engine_inspect(en, id, true, &info, e) < 0) {
			dcfs_error_clear(e); /* gone meanwhile */
			continue;
		}
		double rw = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(info, "SizeRw"));
		name = name ? name + (*name == '/') : id;
		if (add_row(out, en->kind, "container", name, rw > 0 ? rw : 0) < 0 ||
		    !cJSON_AddStringToObject(cJSON_GetArrayItem(out, cJSON_GetArraySize(out) - 1),
					     "id", id))
			return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	cJSON_ArrayForEach(it, volumes)
	{
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "Name"));
		const char *mp =
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "Mountpoint"));
		uint64_t bytes = 0;
		_cleanup_error_ dcfs_error quiet = {0};
		if (mp)
			dcfs_tree_bytes(mp, &bytes, &quiet);
		if (name && add_row(out, en->kind, "volume", name, (double)bytes) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	return 0;
}

int dcfs_engine_usage(dcfs_store *s, const dcfs_container *list, size_t n, cJSON **out,
		      cJSON **unreachable, dcfs_error *e)
{
	_cleanup_json_ cJSON *pairs = remembered(s);
	_cleanup_free_ char *root = realpath(s->root, NULL), *label = NULL;
	*out = cJSON_CreateArray();
	*unreachable = cJSON_CreateArray();
	if (!pairs || !*out || !*unreachable)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (!root)
		return 0; /* a store that does not exist yet made nothing anywhere */
	if (asprintf(&label, "dcfs.store=%s", root) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (dcfs_container_on_engine(&list[i]) && list[i].engine_host &&
		    !known(pairs, list[i].engine, list[i].engine_host)) {
			cJSON *pair = cJSON_CreateArray();
			cJSON_AddItemToArray(pair, cJSON_CreateString(list[i].engine));
			cJSON_AddItemToArray(pair, cJSON_CreateString(list[i].engine_host));
			cJSON_AddItemToArray(pairs, pair);
		}
	const cJSON *p;
	cJSON_ArrayForEach(p, pairs)
	{
		const char *kind = cJSON_GetStringValue(cJSON_GetArrayItem(p, 0));
		const char *host = cJSON_GetStringValue(cJSON_GetArrayItem(p, 1));
		_cleanup_(dcfs_engine_close) dcfs_engine en = {0};
		_cleanup_error_ dcfs_error why = {0};
		int r = dcfs_engine_open(kind, host, &en, &why);
		if (r >= 0)
			r = usage_of(&en, label, *out, &why);
		if (r == -ENOMEM)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		if (r < 0)
			cJSON_AddItemToArray(*unreachable, cJSON_CreateString(why.msg ?: host));
	}
	return 0;
}
