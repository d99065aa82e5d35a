/* FOLDER/devcontainer-feature.json read (JSONC) and its properties' types checked: what
 * resolving, options and ordering rely on (id, version, options, dependsOn, installsAfter,
 * the lifecycle commands); a wrong type is an error naming the file, line, column and
 * property. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature.h"
#include "jsonc.h"

typedef struct reader {
	const char *name;
	const dcfs_jsonc_positions *pos;
	dcfs_error *e;
} reader;

__attribute__((format(printf, 3, 4))) static int bad(const reader *rd, const cJSON *item,
						     const char *fmt, ...)
{
	const dcfs_jsonc_place *p = dcfs_jsonc_place_of(rd->pos, item);
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return dcfs_error_set(rd->e, ENOMEM, "out of memory");
	return dcfs_error_set(rd->e, EINVAL, "%s:%d:%d: %s", rd->name, p ? p->line : 1,
			      p ? p->col : 1, msg);
}

static bool strings(const cJSON *v)
{
	if (!cJSON_IsArray(v))
		return false;
	for (const cJSON *it = v->child; it; it = it->next)
		if (!cJSON_IsString(it))
			return false;
	return true;
}

/* options.NAME: {type: boolean|string, default, enum, proposals}. */
static int check_option(const reader *rd, const cJSON *o)
{
	if (!cJSON_IsObject(o))
		return bad(rd, o, "\"options.%s\" must be an object", o->string);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
	if (!cJSON_IsString(type) ||
	    (strcmp(type->valuestring, "boolean") && strcmp(type->valuestring, "string")))
		return bad(rd, type ? type : o, "\"options.%s.type\" must be \"boolean\" or "
			   "\"string\"", o->string);
	const cJSON *def = cJSON_GetObjectItemCaseSensitive(o, "default");
	if (def && !cJSON_IsString(def) && !cJSON_IsBool(def))
		return bad(rd, def, "\"options.%s.default\" must be a string or a boolean",
			   o->string);
	static const char *const lists[] = {"enum", "proposals"};
	for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, lists[i]);
		if (l && !strings(l))
			return bad(rd, l, "\"options.%s.%s\" must be an array of strings",
				   o->string, lists[i]);
	}
	return 0;
}

static int check_command(const reader *rd, const cJSON *v)
{
	if (cJSON_IsString(v) || strings(v))
		return 0;
	if (cJSON_IsObject(v)) {
		for (const cJSON *it = v->child; it; it = it->next)
			if (!cJSON_IsString(it) && !strings(it))
				return bad(rd, it, "\"%s.%s\" must be a string or an array of "
					   "strings", v->string, it->string);
		return 0;
	}
	return bad(rd, v, "\"%s\" must be a string, an array of strings or an object",
		   v->string);
}

static int check_depends(const reader *rd, const cJSON *v)
{
	if (!cJSON_IsObject(v))
		return bad(rd, v, "\"dependsOn\" must be an object");
	for (const cJSON *it = v->child; it; it = it->next)
		if (!cJSON_IsObject(it) && !cJSON_IsString(it) && !cJSON_IsTrue(it))
			return bad(rd, it, "\"dependsOn.%s\" must be an object of options, a "
				   "string or true", it->string);
	return 0;
}

static int check_members(const reader *rd, const cJSON *json)
{
	static const char *const commands[] = {"onCreateCommand", "updateContentCommand",
					       "postCreateCommand", "postStartCommand",
					       "postAttachCommand"};
	int r = 0;
	for (const cJSON *it = json->child; it && r >= 0; it = it->next) {
		const char *k = it->string;
		if ((!strcmp(k, "id") || !strcmp(k, "version")) && !cJSON_IsString(it))
			r = bad(rd, it, "\"%s\" must be a string", k);
		else if (!strcmp(k, "options") && !cJSON_IsObject(it))
			r = bad(rd, it, "\"options\" must be an object");
		else if (!strcmp(k, "options"))
			for (const cJSON *o = it->child; o && r >= 0; o = o->next)
				r = check_option(rd, o);
		else if (!strcmp(k, "dependsOn"))
			r = check_depends(rd, it);
		else if ((!strcmp(k, "installsAfter") || !strcmp(k, "legacyIds")) && !strings(it))
			r = bad(rd, it, "\"%s\" must be an array of strings", k);
		for (size_t i = 0; i < ELEMENTSOF(commands) && r >= 0; i++)
			if (!strcmp(k, commands[i]))
				r = check_command(rd, it);
	}
	return r;
}

int dcfs_feature_read(const char *folder, cJSON **json, dcfs_error *e)
{
	*json = NULL;
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/devcontainer-feature.json", folder) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	dcfs_jsonc_positions pos = {0};
	_cleanup_json_ cJSON *doc = NULL;
	int r = dcfs_jsonc_parse_file_pos(path, &doc, &pos, e);
	reader rd = {.name = path, .pos = &pos, .e = e};
	if (r >= 0 && !cJSON_IsObject(doc))
		r = bad(&rd, doc, "expected an object");
	if (r >= 0)
		r = check_members(&rd, doc);
	static const char *const required[] = {"id", "version"};
	for (size_t i = 0; i < ELEMENTSOF(required) && r >= 0; i++)
		if (!cJSON_GetObjectItemCaseSensitive(doc, required[i]))
			r = bad(&rd, doc, "\"%s\" is missing", required[i]);
	dcfs_jsonc_positions_free(&pos);
	if (r < 0)
		return r;
	*json = TAKE_PTR(doc);
	return 0;
}
