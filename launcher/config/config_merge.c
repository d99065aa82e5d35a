/* The merged configuration (see dcfs_devcontainer_merge), after the reference CLI's
 * mergeConfiguration: the image's metadata entries and the configuration's own entry (the
 * properties images may carry) are combined property by property: booleans OR-ed, lists
 * united, lifecycle commands collected, maps assigned in order, single values taken from the
 * last entry that has one. Keys keep JSON.stringify's order: the configuration's own keys
 * first, then the merged ones the configuration lacked. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "devcontainer.h"
#include "jsonc.h"

/* What the configuration contributes as a metadata entry, in this order. */
static const char *const config_props[] = {
	"onCreateCommand",
	"updateContentCommand",
	"postCreateCommand",
	"postStartCommand",
	"postAttachCommand",
	"waitFor",
	"customizations",
	"mounts",
	"containerEnv",
	"containerUser",
	"init",
	"privileged",
	"capAdd",
	"securityOpt",
	"remoteUser",
	"userEnvProbe",
	"remoteEnv",
	"overrideCommand",
	"portsAttributes",
	"otherPortsAttributes",
	"forwardPorts",
	"shutdownAction",
	"updateRemoteUserUID",
	"hostRequirements",
};

/* Dropped from the copy of the configuration before the merged values are added. */
static const char *const replaced[] = {
	"customizations",    "entrypoint",	 "onCreateCommand",   "updateContentCommand",
	"postCreateCommand", "postStartCommand", "postAttachCommand", "shutdownAction",
};

typedef struct entries {
	const cJSON **v;
	size_t n;
} entries;

static bool truthy(const cJSON *v)
{
	if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return false;
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0 && !isnan(v->valuedouble);
	if (cJSON_IsString(v))
		return v->valuestring[0] != '\0';
	return true;
}

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* Set obj[key] (in place when present); a NULL value removes the key, as an undefined
 * property vanishes from JSON.stringify. */
static int put(cJSON *obj, const char *key, cJSON *val)
{
	if (!val) {
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
		return 0;
	}
	bool ok = get(obj, key) ? cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val)
				: cJSON_AddItemToObject(obj, key, val);
	if (!ok)
		cJSON_Delete(val);
	return ok ? 0 : -ENOMEM;
}

static cJSON *json_dup(const cJSON *v)
{
	return v ? cJSON_Duplicate(v, true) : NULL;
}

static cJSON *some(const entries *es, const char *key)
{
	for (size_t i = 0; i < es->n; i++)
		if (truthy(get(es->v[i], key)))
			return cJSON_CreateTrue();
	return cJSON_CreateFalse();
}

/* The last entry's truthy value (or boolean one, with `boolean`). */
static cJSON *last(const entries *es, const char *key, bool boolean)
{
	for (size_t i = es->n; i-- > 0;) {
		const cJSON *v = get(es->v[i], key);
		if (boolean ? cJSON_IsBool(v) : truthy(v))
			return json_dup(v);
	}
	return NULL;
}

/* Truthy values in order; `keep_empty` gives [] rather than nothing. */
static cJSON *collect(const entries *es, const char *key, bool keep_empty)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < es->n; i++)
		if (truthy(get(es->v[i], key)))
			cJSON_AddItemToArray(arr, json_dup(get(es->v[i], key)));
	if (arr && !keep_empty && !arr->child) {
		cJSON_Delete(arr);
		return NULL;
	}
	return arr;
}

static bool in_array(const cJSON *arr, const cJSON *v)
{
	if (cJSON_IsObject(v) || cJSON_IsArray(v))
		return false; /* a Set tells objects apart by identity */
	for (const cJSON *c = arr->child; c; c = c->next)
		if (cJSON_Compare(c, v, true))
			return true;
	return false;
}

/* [...new Set([].concat(...values))] or nothing when empty. */
static cJSON *unite(const entries *es, const char *key)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < es->n; i++) {
		const cJSON *v = get(es->v[i], key);
		if (!truthy(v))
			continue;
		const cJSON *c = cJSON_IsArray(v) ? v->child : v;
		for (; c; c = cJSON_IsArray(v) ? c->next : NULL)
			if (!in_array(arr, c))
				cJSON_AddItemToArray(arr, json_dup(c));
	}
	if (arr && !arr->child) {
		cJSON_Delete(arr);
		return NULL;
	}
	return arr;
}

/* Object.assign({}, ...values) */
static cJSON *assign(const entries *es, const char *key)
{
	cJSON *obj = cJSON_CreateObject();
	for (size_t i = 0; obj && i < es->n; i++) {
		const cJSON *v = get(es->v[i], key);
		for (const cJSON *c = cJSON_IsObject(v) ? v->child : NULL; c; c = c->next)
			put(obj, c->string, json_dup(c));
	}
	return obj;
}

/* customizations: {tool: [value of each entry that has it]} */
static cJSON *customizations(const entries *es)
{
	cJSON *obj = cJSON_CreateObject();
	for (size_t i = 0; obj && i < es->n; i++) {
		const cJSON *v = get(es->v[i], "customizations");
		for (const cJSON *c = cJSON_IsObject(v) ? v->child : NULL; c; c = c->next) {
			cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, c->string);
			if (!list)
				cJSON_AddItemToObject(obj, c->string, list = cJSON_CreateArray());
			cJSON_AddItemToArray(list, json_dup(c));
		}
	}
	if (obj && !obj->child) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

/* A mount's target: "type=bind,source=a,target=b" (with the aliases dst and destination) or an
 * object's "target"; NULL when it has none. */
static char *mount_target(const cJSON *m)
{
	if (!cJSON_IsString(m)) {
		const char *t = cJSON_GetStringValue(get(m, "target"));
		return t ? strdup(t) : NULL;
	}
	char *target = NULL;
	for (const char *p = m->valuestring;;) {
		const char *end = strchrnul(p, ',');
		const char *eq = memchr(p, '=', (size_t)(end - p));
		size_t kn = eq ? (size_t)(eq - p) : (size_t)(end - p);
		bool is_target = (kn == 6 && !strncmp(p, "target", 6)) ||
				 (kn == 3 && !strncmp(p, "dst", 3)) ||
				 (kn == 11 && !strncmp(p, "destination", 11));
		if (is_target) {
			free(target);
			target = eq ? strndup(eq + 1, strcspn(eq + 1, ",=")) : NULL;
		}
		if (!*end)
			return target;
		p = end + 1;
	}
}

static bool same_target(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Mounts of all entries; for each target only the last one, in the order of those. */
static cJSON *mounts(const entries *es)
{
	_cleanup_json_ cJSON *all = collect(es, "mounts", true);
	cJSON *flat = cJSON_CreateArray(), *out = cJSON_CreateArray();
	for (cJSON *c = all ? all->child : NULL; c && flat; c = c->next)
		for (cJSON *m = cJSON_IsArray(c) ? c->child : c; m;
		     m = cJSON_IsArray(c) ? m->next : NULL)
			cJSON_AddItemToArray(flat, json_dup(m));
	for (cJSON *m = flat ? flat->child : NULL; m && out; m = m->next) {
		_cleanup_free_ char *t = mount_target(m);
		bool later = false;
		for (cJSON *n = m->next; n && !later; n = n->next) {
			_cleanup_free_ char *u = mount_target(n);
			later = same_target(t, u);
		}
		if (!later)
			cJSON_AddItemToArray(out, json_dup(m));
	}
	cJSON_Delete(flat);
	if (out && !out->child) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

/* "localhost:N" and N are the same port; other strings stay as they are. */
static cJSON *forward_ports(const entries *es)
{
	cJSON *out = cJSON_CreateArray();
	for (size_t i = 0; out && i < es->n; i++) {
		const cJSON *v = get(es->v[i], "forwardPorts");
		for (const cJSON *c = cJSON_IsArray(v) ? v->child : NULL; c; c = c->next) {
			cJSON *p = json_dup(c);
			const char *s = cJSON_GetStringValue(c);
			const char *lh = s ? strstr(s, "localhost:") : NULL;
			if (lh && lh[10] >= '0' && lh[10] <= '9') {
				cJSON_Delete(p);
				p = cJSON_CreateNumber(strtol(s + 10, NULL, 10));
			}
			if (in_array(out, p))
				cJSON_Delete(p);
			else
				cJSON_AddItemToArray(out, p);
		}
	}
	if (out && !out->child) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

/* "4gb" -> 4 GiB in bytes; 0 when it does not parse (as the reference). */
static double size_of(const cJSON *v)
{
	const char *s = cJSON_GetStringValue(v);
	if (!s || !(*s >= '0' && *s <= '9'))
		return 0;
	char *end;
	double n = (double)strtoull(s, &end, 10);
	if (!*end)
		return n;
	const char *units = "kmgt";
	const char *u = strchr(units, *end);
	if (!u || end[1] != 'b' || end[2])
		return 0;
	return n * (double)(1ULL << (10 * (u - units + 1)));
}

static double max2(double a, double b)
{
	return a > b ? a : b;
}

static cJSON *size_string(double n)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%.0f", n);
	return cJSON_CreateString(buf);
}

/* Two gpu requirements: true, "optional" or {cores, memory}. */
static cJSON *merge_gpu(cJSON *a, const cJSON *b)
{
	if (!b || cJSON_IsFalse(b))
		return a;
	if (!a || cJSON_IsFalse(a)) {
		cJSON_Delete(a);
		return json_dup(b);
	}
	const char *sa = cJSON_GetStringValue(a), *sb = cJSON_GetStringValue(b);
	cJSON *out = sa && sb && !strcmp(sa, "optional") && !strcmp(sb, "optional")
			     ? cJSON_CreateString("optional")
			     : cJSON_CreateObject();
	if (cJSON_IsObject(out)) {
		double ca = cJSON_GetNumberValue(get(a, "cores")),
		       cb = cJSON_GetNumberValue(get(b, "cores"));
		double cores = max2(isnan(ca) ? 0 : ca, isnan(cb) ? 0 : cb);
		double mem = max2(size_of(get(a, "memory")), size_of(get(b, "memory")));
		if (cores)
			cJSON_AddNumberToObject(out, "cores", cores);
		if (mem)
			cJSON_AddItemToObject(out, "memory", size_string(mem));
	}
	cJSON_Delete(a);
	return out;
}

/* With no entries at all, Math.max() of nothing is -Infinity: the reference then prints this. */
static cJSON *no_host_requirements(void)
{
	cJSON *out = cJSON_CreateObject();
	if (out && (!cJSON_AddNullToObject(out, "cpus") ||
		    !cJSON_AddStringToObject(out, "memory", "-Infinity") ||
		    !cJSON_AddStringToObject(out, "storage", "-Infinity"))) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

static cJSON *host_requirements(const entries *es)
{
	if (es->n == 0)
		return no_host_requirements();
	double cpus = 0, mem = 0, storage = 0;
	cJSON *gpu = NULL;
	for (size_t i = 0; i < es->n; i++) {
		const cJSON *h = get(es->v[i], "hostRequirements");
		double c = cJSON_GetNumberValue(get(h, "cpus"));
		cpus = max2(cpus, isnan(c) ? 0 : c);
		mem = max2(mem, size_of(get(h, "memory")));
		storage = max2(storage, size_of(get(h, "storage")));
		gpu = merge_gpu(gpu, get(h, "gpu"));
	}
	if (!cpus && !mem && !storage && !truthy(gpu)) {
		cJSON_Delete(gpu);
		return NULL;
	}
	cJSON *out = cJSON_CreateObject();
	if (out) {
		cJSON_AddNumberToObject(out, "cpus", cpus);
		if (mem)
			cJSON_AddItemToObject(out, "memory", size_string(mem));
		if (storage)
			cJSON_AddItemToObject(out, "storage", size_string(storage));
	}
	if (out && gpu)
		cJSON_AddItemToObject(out, "gpu", gpu);
	else
		cJSON_Delete(gpu);
	return out;
}

static int merge_into(cJSON *m, const entries *es)
{
	static const char *const lifecycle[][2] = {
		{"onCreateCommands", "onCreateCommand"},
		{"updateContentCommands", "updateContentCommand"},
		{"postCreateCommands", "postCreateCommand"},
		{"postStartCommands", "postStartCommand"},
		{"postAttachCommands", "postAttachCommand"},
	};
	int r = put(m, "init", some(es, "init"));
	r = r ?: put(m, "privileged", some(es, "privileged"));
	r = r ?: put(m, "capAdd", unite(es, "capAdd"));
	r = r ?: put(m, "securityOpt", unite(es, "securityOpt"));
	r = r ?: put(m, "entrypoints", collect(es, "entrypoint", false));
	r = r ?: put(m, "mounts", mounts(es));
	r = r ?: put(m, "customizations", customizations(es));
	for (size_t i = 0; i < ELEMENTSOF(lifecycle); i++)
		r = r ?: put(m, lifecycle[i][0], collect(es, lifecycle[i][1], true));
	r = r ?: put(m, "waitFor", last(es, "waitFor", false));
	r = r ?: put(m, "remoteUser", last(es, "remoteUser", false));
	r = r ?: put(m, "containerUser", last(es, "containerUser", false));
	r = r ?: put(m, "userEnvProbe", last(es, "userEnvProbe", false));
	r = r ?: put(m, "remoteEnv", assign(es, "remoteEnv"));
	r = r ?: put(m, "containerEnv", assign(es, "containerEnv"));
	r = r ?: put(m, "overrideCommand", last(es, "overrideCommand", true));
	r = r ?: put(m, "portsAttributes", assign(es, "portsAttributes"));
	r = r ?: put(m, "otherPortsAttributes", last(es, "otherPortsAttributes", false));
	r = r ?: put(m, "forwardPorts", forward_ports(es));
	r = r ?: put(m, "shutdownAction", last(es, "shutdownAction", false));
	r = r ?: put(m, "updateRemoteUserUID", last(es, "updateRemoteUserUID", true));
	r = r ?: put(m, "hostRequirements", host_requirements(es));
	return r;
}

/* The configuration's own entry: the properties it has among config_props. */
static cJSON *config_entry(const cJSON *config)
{
	cJSON *e = cJSON_CreateObject();
	for (size_t i = 0; e && i < ELEMENTSOF(config_props); i++)
		if (get(config, config_props[i]))
			cJSON_AddItemToObject(e, config_props[i],
					      json_dup(get(config, config_props[i])));
	return e;
}

int dcfs_devcontainer_merge(const cJSON *config, const cJSON *image_metadata, cJSON **out,
			    dcfs_error *e)
{
	_cleanup_json_ cJSON *own = config_entry(config);
	_cleanup_json_ cJSON *m = cJSON_Duplicate(config, true);
	size_t n = (size_t)cJSON_GetArraySize(image_metadata) + 1;
	_cleanup_free_ const cJSON **v = calloc(n, sizeof(*v));
	if (!own || !m || !v)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	entries es = {v, 0};
	const cJSON *c = cJSON_IsArray(image_metadata) ? image_metadata->child : NULL;
	for (; c; c = c->next)
		if (cJSON_IsObject(c) && c->child)
			es.v[es.n++] = c;
	if (own->child)
		es.v[es.n++] = own;
	for (size_t i = 0; i < ELEMENTSOF(replaced); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(m, replaced[i]);
	if (merge_into(m, &es) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	*out = TAKE_PTR(m);
	return 0;
}
