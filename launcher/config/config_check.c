/* The walk of devcontainer.json against the schema (see config_check.h): each member of an
 * object the schema describes is looked up (unknown: a warning with the nearest known name),
 * its type and value checked (an error), and what dcfs does not do said by name. Nested
 * objects with known keys (build, hostRequirements, mount objects, port attributes, secrets)
 * are walked the same way; customizations are the tools' own and are not. */
#include "config_check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config_schema.h"
#include "strbuf.h"

typedef struct checker {
	const dcfs_config_check_opts *o;
	dcfs_diags *warnings;
	dcfs_error *e;
	const cJSON *config;
} checker;

/* ---- diagnostics ------------------------------------------------------------------------- */

int dcfs_diags_add(dcfs_diags *d, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	char **v = r < 0 ? NULL : realloc(d->v, (d->n + 1) * sizeof(*v));
	if (!v) {
		free(r < 0 ? NULL : msg);
		return -ENOMEM;
	}
	d->v = v;
	d->v[d->n++] = msg;
	return 0;
}

void dcfs_diags_free(dcfs_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i]);
	free(d->v);
	*d = (dcfs_diags){0};
}

/* Where `item` is: its key for an object member (`key`), else its value. */
static void place(const checker *c, const cJSON *item, bool key, int *line, int *col)
{
	const dcfs_jsonc_place *p = dcfs_jsonc_place_of(c->o->pos, item);
	*line = p ? (key && p->key_line ? p->key_line : p->line) : 1;
	*col = p ? (key && p->key_line ? p->key_col : p->col) : 1;
}

/* "NAME:LINE:COL: MESSAGE" for `item` (placed as place() places it). malloc'd; NULL when out
 * of memory. */
__attribute__((format(printf, 4, 0))) static char *
vmessage_at(const checker *c, const cJSON *item, bool key, const char *fmt, va_list ap)
{
	int line, col;
	place(c, item, key, &line, &col);
	_cleanup_free_ char *msg = NULL;
	char *out = NULL;
	if (vasprintf(&msg, fmt, ap) < 0 ||
	    asprintf(&out, "%s:%d:%d: %s", c->o->name, line, col, msg) < 0)
		return NULL;
	return out;
}

__attribute__((format(printf, 4, 5))) static int fail(checker *c, const cJSON *item, bool key,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = vmessage_at(c, item, key, fmt, ap);
	va_end(ap);
	if (!msg)
		return dcfs_error_set(c->e, ENOMEM, "out of memory");
	return dcfs_error_set(c->e, EINVAL, "%s", msg);
}

__attribute__((format(printf, 3, 4))) static int warn(checker *c, const cJSON *item,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = vmessage_at(c, item, true, fmt, ap);
	va_end(ap);
	if (!msg || dcfs_diags_add(c->warnings, "%s", msg) < 0)
		return dcfs_error_set(c->e, ENOMEM, "out of memory");
	return 0;
}

/* ---- types ------------------------------------------------------------------------------- */

static bool is_integer(const cJSON *v)
{
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
	       v->valuedouble == floor(v->valuedouble);
}

static bool has_type(const cJSON *v, unsigned types)
{
	return ((types & DCFS_JT_STRING) && cJSON_IsString(v)) ||
	       ((types & DCFS_JT_NUMBER) && cJSON_IsNumber(v)) ||
	       ((types & DCFS_JT_INTEGER) && is_integer(v)) ||
	       ((types & DCFS_JT_BOOL) && cJSON_IsBool(v)) ||
	       ((types & DCFS_JT_OBJECT) && cJSON_IsObject(v)) ||
	       ((types & DCFS_JT_ARRAY) && cJSON_IsArray(v)) ||
	       ((types & DCFS_JT_NULL) && cJSON_IsNull(v));
}

static const char *type_name(const cJSON *v)
{
	return cJSON_IsString(v) ? "a string"
	       : cJSON_IsNumber(v) ? (is_integer(v) ? "an integer" : "a number")
	       : cJSON_IsBool(v)   ? "a boolean"
	       : cJSON_IsObject(v) ? "an object"
	       : cJSON_IsArray(v)  ? "an array"
				   : "null";
}

/* "a string or an array" */
static void types_text(unsigned types, char *out, size_t size)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{DCFS_JT_STRING, "a string"},	{DCFS_JT_NUMBER, "a number"},
		{DCFS_JT_INTEGER, "an integer"}, {DCFS_JT_BOOL, "a boolean"},
		{DCFS_JT_OBJECT, "an object"},	{DCFS_JT_ARRAY, "an array"},
		{DCFS_JT_NULL, "null"},
	};
	size_t n = 0, k = 0;
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		n += (types & names[i].bit) != 0;
	out[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		if (!(types & names[i].bit))
			continue;
		const char *sep = k == 0 ? "" : k + 1 == n ? " or " : ", ";
		size_t len = strlen(out);
		snprintf(out + len, size - len, "%s%s", sep, names[i].name);
		k++;
	}
}

static int wrong_type(checker *c, const cJSON *v, const char *path, unsigned types)
{
	char want[128];
	types_text(types, want, sizeof(want));
	return fail(c, v, false, "\"%s\" must be %s, not %s", path, want, type_name(v));
}

/* ---- values ------------------------------------------------------------------------------ */

static int check_enum(checker *c, const cJSON *v, const char *path, const char *values)
{
	size_t n = strlen(v->valuestring);
	for (const char *p = values; *p;) {
		const char *end = strchrnul(p, '|');
		if ((size_t)(end - p) == n && !strncmp(p, v->valuestring, n))
			return 0;
		p = *end ? end + 1 : end;
	}
	char list[256];
	snprintf(list, sizeof(list), "%s", values);
	for (char *q = list; (q = strchr(q, '|'));)
		*q = ',';
	return fail(c, v, false, "\"%s\": \"%s\" is not one of %s", path, v->valuestring, list);
}

static int check_strings(checker *c, const cJSON *v, const char *path)
{
	if (cJSON_IsString(v))
		return 0;
	int i = 0;
	for (const cJSON *it = v->child; it; it = it->next, i++)
		if (!cJSON_IsString(it))
			return fail(c, it, false, "\"%s[%d]\" must be a string, not %s", path, i,
				    type_name(it));
	return 0;
}

static const char command_types[] =
	"a string, an array of strings or an object of those (named commands run in parallel)";

static int check_command(checker *c, const cJSON *v, const char *path)
{
	if (cJSON_IsString(v))
		return 0;
	if (cJSON_IsArray(v))
		return check_strings(c, v, path);
	if (!cJSON_IsObject(v))
		return fail(c, v, false, "\"%s\" must be %s, not %s", path, command_types,
			    type_name(v));
	for (const cJSON *it = v->child; it; it = it->next) {
		if (!cJSON_IsString(it) && !cJSON_IsArray(it))
			return fail(c, it, false,
				    "\"%s.%s\" must be a string or an array of strings, not %s", path,
				    it->string, type_name(it));
		_cleanup_free_ char *sub = NULL;
		if (cJSON_IsArray(it) && asprintf(&sub, "%s.%s", path, it->string) < 0)
			return dcfs_error_set(c->e, ENOMEM, "out of memory");
		int r = sub ? check_strings(c, it, sub) : 0;
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_string_map(checker *c, const cJSON *v, const char *path, bool nulls)
{
	for (const cJSON *it = v->child; it; it = it->next)
		if (!cJSON_IsString(it) && !(nulls && cJSON_IsNull(it)))
			return fail(c, it, false, "\"%s.%s\" must be a string%s, not %s", path,
				    it->string, nulls ? " or null" : "", type_name(it));
	return 0;
}

static bool port_number(double d)
{
	return d >= 0 && d <= 65535 && d == floor(d);
}

/* "host:port" as the spec's pattern has it (host names in any case, dots allowed) */
static bool host_port(const char *s)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || !colon[1] || strlen(colon + 1) > 5)
		return false;
	for (const char *p = s; p < colon; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", *p))
			return false;
	for (const char *p = colon + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return atoi(colon + 1) <= 65535;
}

static int check_ports(checker *c, const cJSON *v, const char *path)
{
	int i = 0;
	for (const cJSON *it = v->child; it; it = it->next, i++) {
		bool ok = (cJSON_IsNumber(it) && port_number(it->valuedouble)) ||
			  (cJSON_IsString(it) && host_port(it->valuestring));
		if (ok)
			continue;
		_cleanup_free_ char *text = cJSON_PrintUnformatted(it);
		return fail(c, it, false,
			    "\"%s[%d]\": %s is not a port: expected an integer 0 to 65535 or "
			    "\"host:port\"",
			    path, i, text ? text : "?");
	}
	return 0;
}

static int check_app_port(checker *c, const cJSON *v, const char *path)
{
	int i = 0;
	for (const cJSON *it = cJSON_IsArray(v) ? v->child : NULL; it; it = it->next, i++)
		if (!is_integer(it) && !cJSON_IsString(it))
			return fail(c, it, false, "\"%s[%d]\" must be an integer or a string, not %s",
				    path, i, type_name(it));
	return 0;
}

bool dcfs_config_size(const char *s, double *bytes)
{
	if (!s)
		return false;
	/* digits, then optionally '.' and digits */
	size_t int_len = strspn(s, "0123456789"), frac_len = 0;
	if (s[int_len] == '.' && !(frac_len = strspn(s + int_len + 1, "0123456789")))
		return false;
	if (!int_len)
		return false;
	char *end;
	double n = strtod(s, &end);
	if (end != s + int_len + (frac_len ? frac_len + 1 : 0) || !isfinite(n))
		return false;
	if (!*end) {
		*bytes = n;
		return true;
	}
	const char *units = "kmgt", *u = strchr(units, end[0] | 0x20);
	if (!end[0] || !u || (end[1] | 0x20) != 'b' || end[2])
		return false;
	for (const char *k = units; k <= u; k++)
		n *= 1024;
	*bytes = n;
	return true;
}

static int check_size(checker *c, const cJSON *v, const char *path)
{
	double bytes;
	if (dcfs_config_size(v->valuestring, &bytes))
		return 0;
	return fail(c, v, false,
		    "\"%s\": \"%s\" is not a size: expected a number with kb, mb, gb or tb (\"4gb\")",
		    path, v->valuestring);
}

/* "features": each value an object of options, a version string or true. */
static int check_features(checker *c, const cJSON *v, const char *path)
{
	for (const cJSON *it = v->child; it; it = it->next) {
		if (!*it->string)
			return fail(c, it, true, "\"%s\": a feature with an empty name", path);
		if (!cJSON_IsObject(it) && !cJSON_IsString(it) && !cJSON_IsTrue(it))
			return fail(c, it, false, "\"%s.%s\" must be an object of options, a version "
				    "string or true, not %s", path, it->string, type_name(it));
	}
	return 0;
}

/* ---- objects ----------------------------------------------------------------------------- */

static int walk(checker *c, const cJSON *obj, const dcfs_schema_object *schema, const char *path,
		bool report);

static int check_value(checker *c, const dcfs_schema_prop *p, const cJSON *v, const char *path)
{
	switch (p->value) {
	case DCFS_SV_ENUM:
		return check_enum(c, v, path, p->values);
	case DCFS_SV_COMMAND:
		return check_command(c, v, path);
	case DCFS_SV_STRINGS:
		return check_strings(c, v, path);
	case DCFS_SV_FEATURES:
		return check_features(c, v, path);
	case DCFS_SV_STRING_MAP:
		return cJSON_IsObject(v) ? check_string_map(c, v, path, p->values != NULL) : 0;
	case DCFS_SV_PORTS:
		return check_ports(c, v, path);
	case DCFS_SV_APP_PORT:
		return check_app_port(c, v, path);
	case DCFS_SV_SIZE:
		return check_size(c, v, path);
	case DCFS_SV_GPU:
		if (cJSON_IsString(v) && strcmp(v->valuestring, "optional"))
			return fail(c, v, false, "\"%s\": \"%s\" is not one of true, false, "
				    "\"optional\" or an object", path, v->valuestring);
		return cJSON_IsObject(v) ? walk(c, v, p->nested, path, false) : 0;
	case DCFS_SV_NESTED:
		return walk(c, v, p->nested, path, p->support == DCFS_SUPPORTED);
	default:
		return 0;
	}
}

/* Elements of an array or values of an object, checked against `p->nested`. */
static int check_members(checker *c, const dcfs_schema_prop *p, const cJSON *v, const char *path)
{
	int i = 0;
	for (const cJSON *it = v->child; it; it = it->next, i++) {
		_cleanup_free_ char *sub = NULL;
		if ((cJSON_IsArray(v) ? asprintf(&sub, "%s[%d]", path, i)
				      : asprintf(&sub, "%s.%s", path, it->string)) < 0)
			return dcfs_error_set(c->e, ENOMEM, "out of memory");
		if (p->value == DCFS_SV_MOUNTS && cJSON_IsString(it))
			continue;
		if (!cJSON_IsObject(it) && p->support != DCFS_SUPPORTED) {
			/* dcfs does not act on it: said, and nothing refused */
			int r = warn(c, it, "\"%s\" should be an object, not %s", sub, type_name(it));
			if (r < 0)
				return r;
			continue;
		}
		if (!cJSON_IsObject(it))
			return fail(c, it, false, "\"%s\" must be %s, not %s", sub,
				    p->value == DCFS_SV_MOUNTS ? "a string or an object"
							       : "an object",
				    type_name(it));
		int r = walk(c, it, p->nested, sub, p->support == DCFS_SUPPORTED);
		if (r < 0)
			return r;
	}
	return 0;
}

/* What dcfs does not do with a property, by name: a warning, or for `up` an error. */
static int support(checker *c, const dcfs_schema_prop *p, const cJSON *v, const char *path)
{
	switch (p->support) {
	case DCFS_IGNORED:
		return warn(c, v, "\"%s\": %s", path, p->note);
	case DCFS_IMAGE_ONLY:
		if (c->o->container)
			return fail(c, v, true, "\"%s\": %s", path, p->note);
		return warn(c, v, "\"%s\": dcfs up refuses this: %s", path, p->note);
	default:
		return 0;
	}
}

static int unknown(checker *c, const cJSON *it, const dcfs_schema_object *schema,
		   const char *path)
{
	const char *near = dcfs_schema_nearest(schema, it->string);
	const char *in = path ? "\" in \"" : "", *p = path ? path : "";
	if (near)
		return warn(c, it, "unknown property \"%s%s%s\": did you mean \"%s\"?", it->string,
			    in, p, near);
	return warn(c, it, "unknown property \"%s%s%s\": dcfs ignores it", it->string, in, p);
}

/* Each member of `obj` against `schema`; `report`: say what dcfs does not do (false inside a
 * property already reported whole). */
static int walk(checker *c, const cJSON *obj, const dcfs_schema_object *schema, const char *path,
		bool report)
{
	for (const cJSON *it = obj->child; it; it = it->next) {
		const dcfs_schema_prop *p = dcfs_schema_find(schema, it->string);
		_cleanup_free_ char *sub = NULL;
		if (asprintf(&sub, "%s%s%s", path ? path : "", path ? "." : "", it->string) < 0)
			return dcfs_error_set(c->e, ENOMEM, "out of memory");
		int r = 0;
		if (!p)
			r = unknown(c, it, schema, path);
		else if (!has_type(it, p->types))
			r = p->value == DCFS_SV_COMMAND ? check_command(c, it, sub)
							: wrong_type(c, it, sub, p->types);
		else if ((r = report ? support(c, p, it, sub) : 0) >= 0 &&
			 (r = check_value(c, p, it, sub)) >= 0 &&
			 (p->value == DCFS_SV_MOUNTS || p->value == DCFS_SV_OBJECT_OF))
			r = check_members(c, p, it, sub);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Values that are valid alone but not together. */
static int combinations(checker *c, const cJSON *config)
{
	const cJSON *sa = cJSON_GetObjectItemCaseSensitive(config, "shutdownAction");
	if (cJSON_IsString(sa) && !strcmp(sa->valuestring, "stopCompose") &&
	    !cJSON_HasObjectItem(config, "dockerComposeFile"))
		return fail(c, sa, false,
			    "\"shutdownAction\": \"stopCompose\" needs a \"dockerComposeFile\" "
			    "configuration (use none or stopContainer)");
	return 0;
}

int dcfs_config_check(const cJSON *config, const dcfs_config_check_opts *o, dcfs_diags *warnings,
		      dcfs_error *e)
{
	checker c = {.o = o, .warnings = warnings, .e = e, .config = config};
	if (!cJSON_IsObject(config))
		return fail(&c, config, false, "expected a JSON object at the top level, not %s",
			    type_name(config));
	int r = walk(&c, config, &dcfs_schema_devcontainer, NULL, true);
	return r < 0 ? r : combinations(&c, config);
}
