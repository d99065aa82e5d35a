/* Images through the Engine API: inspect, pull (the engine's stream of JSON progress lines, an
 * error object in it failing the pull) and remove. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

int dcfs_engine_image_inspect(dcfs_engine *en, const char *ref, cJSON **out, dcfs_error *e)
{
	*out = NULL;
	_cleanup_free_ char *path = engine_path(en, "/images/", ref, "/json");
	_cleanup_free_ char *what = NULL;
	if (!path || asprintf(&what, "inspect image '%s'", ref) < 0)
		return -ENOMEM;
	return dcfs_engine_call(en, "GET", path, NULL, what, out, e);
}

int dcfs_engine_image_remove(dcfs_engine *en, const char *ref, dcfs_error *e)
{
	_cleanup_free_ char *path = engine_path(en, "/images/", ref, "?force=1");
	_cleanup_free_ char *what = NULL;
	if (!path || asprintf(&what, "remove image '%s'", ref) < 0)
		return -ENOMEM;
	return engine_call_gone_ok(en, "DELETE", path, what, e);
}

/* The query of a pull: fromImage=NAME&tag=TAG, the tag being a digest after '@', the part after
 * the last ':' that follows the last '/', or "latest". */
static char *pull_query(const dcfs_engine *en, const char *ref)
{
	_cleanup_free_ char *name = strdup(ref);
	if (!name)
		return NULL;
	const char *tag = "latest";
	char *at = strchr(name, '@'), *slash = strrchr(name, '/');
	char *colon = strrchr(slash ? slash : name, ':');
	if (at || colon) {
		char *cut = at ? at : colon;
		*cut = 0;
		tag = cut + 1;
	}
	_cleanup_free_ char *n = engine_escape(en, name), *t = engine_escape(en, tag);
	char *q = NULL;
	if (!n || !t || asprintf(&q, "/images/create?fromImage=%s&tag=%s", n, t) < 0)
		return NULL;
	return q;
}

typedef struct pull_state {
	const dcfs_engine *en;
	const char *ref;
	const dcfs_report *report;
	cJSON *last; /* id -> the last status noted for it */
	dcfs_error *e;
} pull_state;

/* An {"error": ...} or {"errorDetail": {"message": ...}} object's message, or NULL. */
static const char *stream_error(const cJSON *j)
{
	const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error"));
	cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "errorDetail");
	const char *dm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "message"));
	return m ? m : dm ? dm : d ? "error" : NULL;
}

/* A note when this id's status changed since its last one. */
static void note_status(pull_state *p, const cJSON *j)
{
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status"));
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "id"));
	if (!status)
		return;
	const char *key = id ? id : "";
	const char *was = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p->last, key));
	if (was && !strcmp(was, status))
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(p->last, key);
	cJSON_AddStringToObject(p->last, key, status);
	dcfs_report_note(p->report, "%s: %s%s%s", p->ref, id ? id : "", id ? ": " : "", status);
}

static int pull_line(void *opaque, char *line)
{
	pull_state *p = opaque;
	if (!*line)
		return 0;
	_cleanup_json_ cJSON *j = cJSON_Parse(line);
	if (!j)
		return 0; /* not a progress object: nothing to say */
	const char *err = stream_error(j);
	if (err)
		return dcfs_error_set(p->e, EIO, "%s: pull image '%s': %.*s", p->en->kind, p->ref,
				      (int)strcspn(err, "\n"), err);
	note_status(p, j);
	return 0;
}

int dcfs_engine_image_pull(dcfs_engine *en, const char *ref, const dcfs_report *report,
			   dcfs_error *e)
{
	_cleanup_free_ char *path = pull_query(en, ref);
	_cleanup_free_ char *what = NULL;
	if (!path || asprintf(&what, "pull image '%s'", ref) < 0)
		return -ENOMEM;
	_cleanup_json_ cJSON *last = cJSON_CreateObject();
	if (!last)
		return -ENOMEM;
	pull_state p = {.en = en, .ref = ref, .report = report, .last = last, .e = e};
	engine_lines lines = {.line = pull_line, .opaque = &p};
	dcfs_strbuf b = {0};
	long status = 0;
	int r = engine_request(en, "POST", path, NULL, &lines, &b, &status, what, e);
	if (r >= 0 && status >= 400)
		r = engine_status_error(en, status, b.s, what, e);
	free(b.s);
	return r;
}
