/* Keeping the catalog's volume rows true (see volumes.h). */
#include "volumes.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "container.h"
#include "jsonc.h"
#include "runtime.h"

void dcfs_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int push_name(char ***names, size_t *n, const char *name, dcfs_error *e)
{
	char **grown = realloc(*names, (*n + 1) * sizeof(*grown));
	if (!grown)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	*names = grown;
	if (!(grown[*n] = strdup(name)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	(*n)++;
	return 0;
}

int dcfs_container_volumes(dcfs_store *s, const char *id, char ***names, size_t *n,
			   dcfs_error *e)
{
	*names = NULL, *n = 0;
	_cleanup_free_ char *path = dcfs_container_path(s, id, "bundle/config.json");
	_cleanup_free_ char *root = realpath(s->root, NULL), *volumes = NULL, *text = NULL;
	if (!path || !root || asprintf(&volumes, "%s/volumes/", root) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	size_t len = 0;
	if (!f || getdelim(&text, &len, '\0', f) < 0)
		return 0; /* no bundle: binds nothing */
	_cleanup_json_ cJSON *spec = cJSON_Parse(text);
	const cJSON *m;
	size_t prefix = strlen(volumes);
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(spec, "mounts"))
	{
		const char *src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "source"));
		if (!src || strncmp(src, volumes, prefix) || strchr(src + prefix, '/'))
			continue;
		int r = push_name(names, n, src + prefix, e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The volumes running containers bind. */
static int busy_volumes(dcfs_store *s, char ***busy, size_t *nbusy, dcfs_error *e)
{
	*busy = NULL, *nbusy = 0;
	dcfs_container *list = NULL;
	size_t n = 0;
	int r = dcfs_container_list(s, &list, &n, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *runc_root = dcfs_container_runc_root(s, e);
	if (!runc_root)
		r = -EIO;
	dcfs_runc runc = {.root = runc_root};
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (!list[i].state || strcmp(list[i].state, "running"))
			continue; /* the catalog knows it stopped: no need to ask runc */
		_cleanup_free_ char *state = NULL;
		dcfs_runc_state(&runc, list[i].id, &state);
		if (!state || (strcmp(state, "running") && strcmp(state, "paused")))
			continue;
		char **names = NULL;
		size_t count = 0;
		r = dcfs_container_volumes(s, list[i].id, &names, &count, e);
		for (size_t j = 0; r >= 0 && j < count; j++)
			r = push_name(busy, nbusy, names[j], e);
		dcfs_names_free(names, count);
	}
	dcfs_container_list_free(list, n);
	return r;
}

static bool contains(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/* Rows whose folder is gone. */
static int forget_missing(dcfs_store *s, char **present, size_t n, dcfs_error *e)
{
	dcfs_volume_info *rows = NULL;
	size_t nrows = 0;
	int r = dcfs_volumes_list(s, &rows, &nrows, e);
	for (size_t i = 0; r >= 0 && i < nrows; i++)
		if (!contains(present, n, rows[i].name))
			r = dcfs_volume_table_delete(s, rows[i].name, e);
	dcfs_volumes_list_free(rows, nrows);
	return r;
}

int dcfs_volumes_sync(dcfs_store *s, dcfs_error *e)
{
	_cleanup_free_ char *root = realpath(s->root, NULL), *dir = NULL;
	if (!root || asprintf(&dir, "%s/volumes", root) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	char **busy = NULL, **present = NULL;
	size_t nbusy = 0, npresent = 0;
	_cleanup_closedir_ DIR *d = opendir(dir);
	int64_t rows = 0;
	int r = dcfs_volume_table_count(s, &rows, e);
	if (r < 0 || (!d && rows == 0))
		return r < 0 ? r : 0; /* no volume anywhere: nothing to ask runc */
	r = busy_volumes(s, &busy, &nbusy, e);
	struct dirent *de;
	while (r >= 0 && d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *path = NULL;
		uint64_t bytes = 0;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			r = dcfs_error_set(e, ENOMEM, "out of memory");
		if (r >= 0)
			r = dcfs_tree_bytes(path, &bytes, e);
		if (r >= 0)
			r = dcfs_volume_table_upsert(s, de->d_name, bytes,
						     contains(busy, nbusy, de->d_name), e);
		if (r >= 0)
			r = push_name(&present, &npresent, de->d_name, e);
	}
	if (r >= 0)
		r = forget_missing(s, present, npresent, e);
	dcfs_names_free(busy, nbusy);
	dcfs_names_free(present, npresent);
	return r;
}
