/* Volumes through the Engine API: list by label, remove (one in use: -EBUSY). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

int dcfs_engine_volume_list(dcfs_engine *en, const char *const *labels, cJSON **out,
			    dcfs_error *e)
{
	*out = NULL;
	_cleanup_free_ char *filters = engine_label_filters(en, labels);
	_cleanup_free_ char *path = NULL;
	if (!filters || asprintf(&path, "/volumes%s%s", *filters ? "?" : "", filters) < 0)
		return -ENOMEM;
	_cleanup_json_ cJSON *reply = NULL;
	int r = dcfs_engine_call(en, "GET", path, NULL, "list volumes", &reply, e);
	if (r < 0)
		return r;
	cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(reply, "Volumes");
	if (!cJSON_IsArray(v)) { /* podman answers null for none */
		cJSON_Delete(v);
		v = cJSON_CreateArray();
	}
	*out = v;
	return v ? 0 : -ENOMEM;
}

int dcfs_engine_volume_remove(dcfs_engine *en, const char *name, dcfs_error *e)
{
	_cleanup_free_ char *path = engine_path(en, "/volumes/", name, "");
	_cleanup_free_ char *what = NULL;
	if (!path || asprintf(&what, "remove volume '%s'", name) < 0)
		return -ENOMEM;
	int r = engine_call_gone_ok(en, "DELETE", path, what, e);
	if (r != -EEXIST) /* 409: in use */
		return r;
	if (e)
		e->code = EBUSY;
	return -EBUSY;
}
