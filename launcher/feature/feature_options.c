/* The options given to a feature checked against its declared `options` and turned into
 * install.sh's environment (see feature.h). As the reference CLI writes them, a boolean is
 * "true"/"false" in the environment, so the strings "true" and "false" are taken for a boolean
 * option and a boolean for a string option; `enum` is strict, `proposals` only suggests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature.h"
#include "jsonc.h"

/* The spec's name rule: /[^\w_]/g -> '_', /^[\d_]+/ -> '_', upper case. A UTF-8 character is
 * one '_' (two beyond the BMP), as JavaScript counts UTF-16 units. malloc'd. */
static char *env_name(const char *option)
{
	size_t n = strlen(option);
	char *s = malloc(2 * n + 2), *o = s;
	if (!s)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)option; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_')
			*o++ = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
		else if (*p < 0x80 || *p >= 0xc0)
			*o++ = '_';
		if (*p >= 0xf0)
			*o++ = '_';
	}
	*o = '\0';
	size_t lead = strspn(s, "0123456789_");
	if (lead) {
		memmove(s + 1, s + lead, strlen(s + lead) + 1);
		s[0] = '_';
	}
	return s;
}

static const char *type_of(const cJSON *v)
{
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "null";
}

/* `enum` as "\"a\", \"b\"" for messages. malloc'd. */
static char *list_text(const cJSON *list)
{
	size_t n = 1;
	for (const cJSON *it = list->child; it; it = it->next)
		n += strlen(it->valuestring) + 4;
	char *s = malloc(n), *o = s;
	if (!s)
		return NULL;
	*o = '\0';
	for (const cJSON *it = list->child; it; it = it->next)
		o += sprintf(o, "%s\"%s\"", it == list->child ? "" : ", ", it->valuestring);
	return s;
}

static bool in_list(const cJSON *list, const char *s)
{
	for (const cJSON *it = list ? list->child : NULL; it; it = it->next)
		if (cJSON_IsString(it) && !strcmp(it->valuestring, s))
			return true;
	return false;
}

/* `v` as option `decl` (declared, or NULL) takes it: a new item, or -EINVAL naming it. */
static int convert(const cJSON *decl, const char *name, const cJSON *v, const char *where,
		   cJSON **out, dcfs_error *e)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(decl, "type");
	bool boolean = cJSON_IsString(type) && !strcmp(type->valuestring, "boolean");
	bool bool_text = cJSON_IsString(v) &&
			 (!strcmp(v->valuestring, "true") || !strcmp(v->valuestring, "false"));
	bool fits = boolean ? cJSON_IsBool(v) || bool_text : cJSON_IsBool(v) || cJSON_IsString(v);
	if (!fits)
		return dcfs_error_set(e, EINVAL, "feature \"%s\": option \"%s\" takes %s, not %s",
				      where, name,
				      decl ? (boolean ? "true or false" : "a string")
					   : "a string or a boolean",
				      type_of(v));
	if (boolean && bool_text)
		*out = cJSON_CreateBool(!strcmp(v->valuestring, "true"));
	else if (decl && !boolean && cJSON_IsBool(v))
		*out = cJSON_CreateString(cJSON_IsTrue(v) ? "true" : "false");
	else
		*out = cJSON_Duplicate(v, false);
	if (!*out)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(decl, "enum");
	if (!en || boolean || in_list(en, (*out)->valuestring))
		return 0;
	_cleanup_json_ cJSON *wrong = TAKE_PTR(*out);
	_cleanup_free_ char *allowed = list_text(en);
	return dcfs_error_set(e, EINVAL, "feature \"%s\": option \"%s\": \"%s\" is not one of %s",
			      where, name, wrong->valuestring, allowed ? allowed : "its enum");
}

/* `given` as an object of option values (a string sets "version"); NULL: not one. */
static int given_object(const cJSON *given, const cJSON *declared, const char *where,
			dcfs_report *report, cJSON **obj, dcfs_error *e)
{
	*obj = NULL;
	if (!given || cJSON_IsTrue(given) || cJSON_IsObject(given))
		return 0;
	if (!cJSON_IsString(given))
		return dcfs_error_set(e, EINVAL, "feature \"%s\": takes an object of options, a "
				      "version string or true, not %s", where, type_of(given));
	if (!cJSON_GetObjectItemCaseSensitive(declared, "version")) {
		/* the reference CLI drops it too */
		dcfs_report_warning(report, "feature \"%s\" has no option \"version\": \"%s\" is "
				    "ignored", where, given->valuestring);
		return 0;
	}
	*obj = cJSON_CreateObject();
	if (!*obj || !cJSON_AddStringToObject(*obj, "version", given->valuestring))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

/* values[name] = v as `decl` takes it. */
static int add_value(cJSON *values, const cJSON *decl, const char *name, const cJSON *v,
		     const char *where, dcfs_error *e)
{
	cJSON *c = NULL;
	int r = convert(decl, name, v, where, &c, e);
	if (r < 0)
		return r;
	if (!cJSON_AddItemToObject(values, name, c)) {
		cJSON_Delete(c);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	return 0;
}

static int make_values(const cJSON *declared, const cJSON *given, const char *where,
		       dcfs_report *report, cJSON *values, dcfs_error *e)
{
	int r = 0;
	for (const cJSON *d = declared ? declared->child : NULL; d && r >= 0; d = d->next) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(given, d->string);
		if (!v)
			v = cJSON_GetObjectItemCaseSensitive(d, "default");
		if (v)
			r = add_value(values, d, d->string, v, where, e);
	}
	for (const cJSON *g = given ? given->child : NULL; g && r >= 0; g = g->next) {
		if (cJSON_GetObjectItemCaseSensitive(declared, g->string))
			continue;
		dcfs_report_warning(report, "feature \"%s\" has no option \"%s\" (passed on as it "
				    "is)", where, g->string);
		r = add_value(values, NULL, g->string, g, where, e);
	}
	return r;
}

static int make_env(const cJSON *values, cJSON *env, dcfs_error *e)
{
	for (const cJSON *v = values->child; v; v = v->next) {
		_cleanup_free_ char *name = env_name(v->string), *line = NULL;
		const char *text = cJSON_IsString(v) ? v->valuestring
						     : (cJSON_IsTrue(v) ? "true" : "false");
		if (!name || asprintf(&line, "%s=%s", name, text) < 0 ||
		    !cJSON_AddItemToArray(env, cJSON_CreateString(line)))
			return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	return 0;
}

int dcfs_feature_options(const cJSON *json, const cJSON *given, const char *where,
			 dcfs_report *report, cJSON **values, cJSON **env, dcfs_error *e)
{
	*values = NULL;
	if (env)
		*env = NULL;
	const cJSON *declared = cJSON_GetObjectItemCaseSensitive(json, "options");
	_cleanup_json_ cJSON *from_string = NULL, *v = cJSON_CreateObject(),
			     *en = env ? cJSON_CreateArray() : NULL;
	if (!v || (env && !en))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int r = given_object(given, declared, where, report, &from_string, e);
	if (r >= 0)
		r = make_values(declared, from_string ? from_string
				: (cJSON_IsObject(given) ? given : NULL), where, report, v, e);
	if (r >= 0 && en)
		r = make_env(v, en, e);
	if (r < 0)
		return r;
	*values = TAKE_PTR(v);
	if (env)
		*env = TAKE_PTR(en);
	return 0;
}
