/* The engine's part of a full rebuild (see purge.h): what a container that ran on podman or
 * docker leaves in its engine -- its image and the named volumes it had the engine make, or a
 * Compose project's containers, volumes and local images. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "compose.h"
#include "container.h"
#include "jsonc.h"
#include "purge.h"

static int add_engine_item(dcfs_purge_plan *p, dcfs_purge_kind kind, const char *name,
			   uint64_t bytes, const dcfs_container *c, dcfs_error *e)
{
	int r = dcfs_purge_add(p, kind, name, bytes, NULL, e);
	if (r < 0)
		return r;
	dcfs_purge_item *it = &p->items[p->n - 1];
	it->engine = strdup(c->engine);
	it->engine_host = c->engine_host ? strdup(c->engine_host) : NULL;
	return it->engine ? 0 : dcfs_error_set(e, ENOMEM, "out of memory");
}

/* Did the image come from a registry (a digest of a repository other than localhost's)? An
 * imported or locally built one would not come back. */
static bool pulled(const cJSON *image)
{
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(image, "RepoDigests"))
		if (cJSON_IsString(d) && strncmp(d->valuestring, "localhost/", 10))
			return true;
	return false;
}

static bool is_compose(dcfs_store *s, const dcfs_container *c)
{
	_cleanup_free_ char *path = dcfs_container_path(s, c->id, "compose.json");
	return path && access(path, F_OK) == 0;
}

int dcfs_purge_engine_plan(dcfs_store *s, const dcfs_container *c, dcfs_purge_plan *p,
			   dcfs_error *e)
{
	if (!c->engine_id || is_compose(s, c))
		return 0; /* a project goes with `down --volumes --rmi local` */
	_cleanup_(dcfs_engine_close) dcfs_engine en = {0};
	_cleanup_json_ cJSON *info = NULL, *image = NULL;
	int r = dcfs_container_engine_open(c, &en, e);
	r = r ?: dcfs_engine_inspect(&en, c->engine_id, false, &info, e);
	if (r == -ENOENT)
		return dcfs_error_clear(e), 0;
	if (r < 0)
		return r;
	const char *ref = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(info, "Config"),
						 "Image"));
	if (ref && dcfs_engine_image_inspect(&en, ref, &image, e) >= 0) {
		double size = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(image, "Size"));
		if ((r = add_engine_item(p, DCFS_PURGE_ENGINE_IMAGE, ref, size > 0 ? (uint64_t)size : 0,
					 c, e)) < 0)
			return r;
		if (!pulled(image))
			p->items[p->n - 1].kept = "not pulled from a registry: none could give it back";
	}
	dcfs_error_clear(e);
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(info, "Mounts"))
	{
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "Type"));
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "Name"));
		const char *src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "Source"));
		if (!type || strcmp(type, "volume") || !name)
			continue;
		uint64_t bytes = 0;
		_cleanup_error_ dcfs_error quiet = {0};
		if (src)
			dcfs_tree_bytes(src, &bytes, &quiet);
		if ((r = add_engine_item(p, DCFS_PURGE_ENGINE_VOLUME, name, bytes, c, e)) < 0)
			return r;
	}
	return 0;
}

int dcfs_purge_engine_project(dcfs_store *s, const dcfs_container *c, dcfs_error *e)
{
	_cleanup_free_ char *path = dcfs_container_path(s, c->id, "compose.json");
	if (!path)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (access(path, F_OK) < 0)
		return 0;
	_cleanup_(dcfs_engine_close) dcfs_engine en = {0};
	_cleanup_(dcfs_compose_free) dcfs_compose compose = {0};
	int r = dcfs_container_engine_open(c, &en, e);
	r = r ?: dcfs_compose_load(path, &en, &compose, e);
	return r ?: dcfs_compose_down(&compose, true, NULL, e);
}

int dcfs_purge_engine_remove(const dcfs_purge_item *it, uint64_t *freed, dcfs_error *e)
{
	_cleanup_(dcfs_engine_close) dcfs_engine en = {0};
	int r = dcfs_engine_open(it->engine, it->engine_host, &en, e);
	if (r < 0)
		return r;
	if (it->kind == DCFS_PURGE_ENGINE_VOLUME) {
		r = dcfs_engine_volume_remove(&en, it->name, e);
	} else {
		/* not forced: an image another container uses stays (409) */
		_cleanup_free_ char *path = NULL, *what = NULL;
		if (asprintf(&path, "/images/%s", it->name) < 0 ||
		    asprintf(&what, "remove image '%s'", it->name) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		r = dcfs_engine_call(&en, "DELETE", path, NULL, what, NULL, e);
		if (r == -EEXIST)
			r = -EBUSY; /* another container uses it */
	}
	if (r == -ENOENT || r == -EBUSY)
		return dcfs_error_clear(e), 0;
	if (r >= 0)
		*freed += it->bytes;
	return r;
}
