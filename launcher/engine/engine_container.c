/* Containers through the Engine API: create, start, stop, remove, inspect, state and list by
 * label. Starting a running container, stopping or removing a gone one, is success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

/* A call on container `id` (VERB says what, "start container 'ID'"); gone_ok: 404 is success. */
static int on_container(dcfs_engine *en, const char *method, const char *id, const char *suffix,
			const char *verb, bool gone_ok, cJSON **reply, dcfs_error *e)
{
	_cleanup_free_ char *path = engine_path(en, "/containers/", id, suffix);
	_cleanup_free_ char *what = NULL;
	if (!path || asprintf(&what, "%s container '%s'", verb, id) < 0)
		return -ENOMEM;
	if (gone_ok)
		return engine_call_gone_ok(en, method, path, what, e);
	return dcfs_engine_call(en, method, path, NULL, what, reply, e);
}

int dcfs_engine_create(dcfs_engine *en, const char *name, const cJSON *body, char **id,
		       dcfs_error *e)
{
	_cleanup_free_ char *path = name ? engine_path(en, "/containers/create?name=", name, "")
					 : strdup("/containers/create");
	_cleanup_free_ char *what = NULL;
	if (!path)
		return -ENOMEM;
	if (asprintf(&what, "create container '%s'", name ? name : "") < 0)
		return -ENOMEM;
	_cleanup_json_ cJSON *reply = NULL;
	int r = dcfs_engine_call(en, "POST", path, body, what, &reply, e);
	if (r == -EIO && e && e->msg && strstr(e->msg, "is already in use")) {
		e->code = EEXIST; /* podman answers a name in use with 500 */
		r = -EEXIST;
	}
	return r < 0 ? r : engine_reply_id(en, reply, what, id, e);
}

int dcfs_engine_start(dcfs_engine *en, const char *id, dcfs_error *e)
{
	/* 304 (running already) is success in dcfs_engine_call */
	return on_container(en, "POST", id, "/start", "start", false, NULL, e);
}

int dcfs_engine_stop(dcfs_engine *en, const char *id, int timeout_s, dcfs_error *e)
{
	char suffix[32];
	snprintf(suffix, sizeof(suffix), "/stop?t=%d", timeout_s);
	return on_container(en, "POST", id, suffix, "stop", true, NULL, e);
}

int dcfs_engine_remove(dcfs_engine *en, const char *id, bool force, dcfs_error *e)
{
	return on_container(en, "DELETE", id, force ? "?force=1&v=1" : "?v=1", "remove", true,
			    NULL, e);
}

int dcfs_engine_inspect(dcfs_engine *en, const char *id, bool size, cJSON **out, dcfs_error *e)
{
	*out = NULL;
	return on_container(en, "GET", id, size ? "/json?size=true" : "/json", "inspect", false, out, e);
}

int dcfs_engine_state(dcfs_engine *en, const char *id, char **state, dcfs_error *e)
{
	_cleanup_json_ cJSON *j = NULL;
	int r = dcfs_engine_inspect(en, id, false, &j, e);
	if (r < 0)
		return r;
	cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "State");
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "Status"));
	if (!s)
		return dcfs_error_set(e, EIO, "%s: inspect container '%s': no State.Status",
				      en->kind, id);
	*state = strdup(s);
	return *state ? 0 : -ENOMEM;
}

int dcfs_engine_list(dcfs_engine *en, const char *const *labels, cJSON **out, dcfs_error *e)
{
	*out = NULL;
	_cleanup_free_ char *filters = engine_label_filters(en, labels);
	_cleanup_free_ char *path = NULL;
	if (!filters || asprintf(&path, "/containers/json?all=1%s%s", *filters ? "&" : "",
				 filters) < 0)
		return -ENOMEM;
	int r = dcfs_engine_call(en, "GET", path, NULL, "list containers", out, e);
	if (r >= 0 && !cJSON_IsArray(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return dcfs_error_set(e, EIO, "%s: list containers: the answer is not an array",
				      en->kind);
	}
	return r;
}
