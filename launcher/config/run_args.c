/* devcontainer.json `runArgs` -> the configuration: each `docker run` flag dcfs understands is
 * rewritten as the property that means the same, so that the rest of `up` reads one place.
 * Flags come as `--flag value`, `--flag=value`, `-f value` or `-fvalue`; a later flag wins over
 * the property (runArgs follow the properties on the reference CLI's docker command line).
 * Anything else is refused by name: silently dropping `--gpus` or `-p` would start a container
 * that is not the one asked for. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capability.h"
#include "cleanup.h"
#include "jsonc.h"
#include "run_args.h"
#include "security_opt.h"

typedef struct ctx {
	cJSON *config;
	dcfs_run_args *out;
	const char *flag; /* as written, for messages */
	const char *where;
	dcfs_error *e;
} ctx;

typedef int (*flag_fn)(ctx *c, const char *value);

static int bad(ctx *c, const char *why, const char *value)
{
	return dcfs_error_set(c->e, EINVAL, "runArgs: %s '%s %s' in %s", why, c->flag, value,
			      c->where);
}

static int set_string(cJSON *config, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(config, key);
	return cJSON_AddStringToObject(config, key, value) ? 0 : -ENOMEM;
}

static int set_true(cJSON *config, const char *key)
{
	cJSON_DeleteItemFromObjectCaseSensitive(config, key);
	return cJSON_AddTrueToObject(config, key) ? 0 : -ENOMEM;
}

static int append(cJSON *config, const char *key, cJSON *item)
{
	cJSON *arr = dcfs_json_slot(config, key, true);
	if (!arr || !item || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		return -ENOMEM;
	}
	return 0;
}

static int replace_str(char **dst, const char *value)
{
	free(*dst);
	*dst = strdup(value);
	return *dst ? 0 : -ENOMEM;
}

/* -e K=V; -e K takes K from dcfs's environment, as docker does (nothing when unset). */
static int flag_env(ctx *c, const char *v)
{
	_cleanup_free_ char *key = strndup(v, strcspn(v, "="));
	if (!key)
		return -ENOMEM;
	if (!*key)
		return bad(c, "bad variable", v);
	const char *val = strchr(v, '=') ? strchr(v, '=') + 1 : getenv(key);
	if (!val)
		return 0;
	cJSON *env = dcfs_json_slot(c->config, "containerEnv", false);
	if (!env)
		return -ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(env, key);
	return cJSON_AddStringToObject(env, key, val) ? 0 : -ENOMEM;
}

/* -v SRC:DST[:ro|rw]: SRC absolute is a bind mount, else a volume's name (a relative path is
 * neither: refused, as Docker refuses it). */
static int flag_volume(ctx *c, const char *v)
{
	_cleanup_free_ char *copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	char *p = copy;
	const char *src = strsep(&p, ":"), *dst = strsep(&p, ":"), *opt = strsep(&p, ":");
	if (!src || !*src || !dst || dst[0] != '/' || p)
		return bad(c, "expected SRC:DST[:ro] in", v);
	if (src[0] != '/' && (strchr(src, '/') || src[0] == '.'))
		return bad(c, "the source of a bind mount must be an absolute path:", v);
	bool ro = false;
	if (opt && strcmp(opt, "rw") && !(ro = !strcmp(opt, "ro")))
		return bad(c, "unsupported volume option in", v);
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "type", src[0] == '/' ? "bind" : "volume");
	cJSON_AddStringToObject(m, "source", src);
	cJSON_AddStringToObject(m, "target", dst);
	if (ro)
		cJSON_AddTrueToObject(m, "readonly");
	return append(c->config, "mounts", m);
}

/* --mount: the same syntax as devcontainer.json's mount strings. */
static int flag_mount(ctx *c, const char *v)
{
	return append(c->config, "mounts", cJSON_CreateString(v));
}

/* --cap-add/--cap-drop NAME: a known capability or ALL, checked here to name the flag. */
static int check_cap(ctx *c, const char *v)
{
	if (dcfs_cap_number(v) == -1)
		return dcfs_error_set(c->e, EINVAL, "runArgs: unknown capability '%s %s' in %s",
				      c->flag, v, c->where);
	return 0;
}

static int flag_cap_add(ctx *c, const char *v)
{
	return check_cap(c, v) ?: append(c->config, "capAdd", cJSON_CreateString(v));
}

/* devcontainer.json has no property for it: kept in `out`. */
static int flag_cap_drop(ctx *c, const char *v)
{
	int r = check_cap(c, v);
	if (r < 0)
		return r;
	if (!c->out->cap_drop && !(c->out->cap_drop = cJSON_CreateArray()))
		return -ENOMEM;
	return cJSON_AddItemToArray(c->out->cap_drop, cJSON_CreateString(v)) ? 0 : -ENOMEM;
}

/* Checked by the parser securityOpt has too, and kept as written for it. */
static int flag_security_opt(ctx *c, const char *v)
{
	dcfs_security s = {0};
	int r = dcfs_security_opt_apply(&s, v, c->e);
	dcfs_security_free(&s);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return dcfs_error_wrap(c->e, "runArgs: %s in %s", c->flag, c->where);
	return append(c->config, "securityOpt", cJSON_CreateString(v));
}

static int flag_privileged(ctx *c, const char *v)
{
	(void)v;
	return set_true(c->config, "privileged");
}

static int flag_init(ctx *c, const char *v)
{
	(void)v;
	return set_true(c->config, "init");
}

static int flag_user(ctx *c, const char *v)
{
	return set_string(c->config, "containerUser", v);
}

static int flag_name(ctx *c, const char *v)
{
	if (!*v || strchr(v, '/'))
		return bad(c, "bad container name", v);
	return replace_str(&c->out->name, v);
}

static int flag_hostname(ctx *c, const char *v)
{
	if (!*v || strlen(v) > 63)
		return bad(c, "bad host name", v);
	return replace_str(&c->out->hostname, v);
}

static int flag_workdir(ctx *c, const char *v)
{
	if (v[0] != '/')
		return bad(c, "the working directory must be absolute:", v);
	return replace_str(&c->out->workdir, v);
}

static int flag_network(ctx *c, const char *v)
{
	if (!strcmp(v, "host"))
		return 0;
	return dcfs_error_set(c->e, ENOTSUP,
			      "runArgs: only the host network is supported, not '%s %s' in %s",
			      c->flag, v, c->where);
}

/* --add-host NAME:IP (or NAME=IP; an IPv6 address keeps its colons). */
static int flag_add_host(ctx *c, const char *v)
{
	size_t n = strchr(v, '=') ? strcspn(v, "=") : strcspn(v, ":");
	if (!n || !v[n] || !v[n + 1] || strpbrk(v, " \t\n"))
		return bad(c, "expected NAME:IP in", v);
	if (!c->out->add_hosts && !(c->out->add_hosts = cJSON_CreateArray()))
		return -ENOMEM;
	_cleanup_free_ char *line = NULL;
	if (asprintf(&line, "%s\t%.*s", v + n + 1, (int)n, v) < 0)
		return -ENOMEM;
	return cJSON_AddItemToArray(c->out->add_hosts, cJSON_CreateString(line)) ? 0 : -ENOMEM;
}

typedef struct flag {
	const char *name; /* long, without "--" */
	char short_name;  /* 0: none */
	bool value;	  /* takes a value (else: an optional "=true") */
	flag_fn fn;
} flag;

static const flag flags[] = {
	{"env", 'e', true, flag_env},
	{"volume", 'v', true, flag_volume},
	{"mount", 0, true, flag_mount},
	{"cap-add", 0, true, flag_cap_add},
	{"cap-drop", 0, true, flag_cap_drop},
	{"security-opt", 0, true, flag_security_opt},
	{"privileged", 0, false, flag_privileged},
	{"init", 0, false, flag_init},
	{"name", 0, true, flag_name},
	{"hostname", 'h', true, flag_hostname},
	{"network", 0, true, flag_network},
	{"net", 0, true, flag_network},
	{"user", 'u', true, flag_user},
	{"workdir", 'w', true, flag_workdir},
	{"add-host", 0, true, flag_add_host},
};

/* The flag `arg` names; *inline_value points after '=' (long) or the letter (short), else NULL. */
static const flag *lookup(const char *arg, const char **inline_value)
{
	*inline_value = NULL;
	if (arg[0] == '-' && arg[1] == '-') {
		size_t n = strcspn(arg + 2, "=");
		for (size_t i = 0; i < ELEMENTSOF(flags); i++)
			if (strlen(flags[i].name) == n && !strncmp(arg + 2, flags[i].name, n)) {
				if (arg[2 + n])
					*inline_value = arg + 3 + n;
				return &flags[i];
			}
	} else if (arg[0] == '-' && arg[1]) {
		for (size_t i = 0; i < ELEMENTSOF(flags); i++)
			if (flags[i].short_name == arg[1]) {
				if (arg[2])
					*inline_value = arg[2] == '=' ? arg + 3 : arg + 2;
				return &flags[i];
			}
	}
	return NULL;
}

/* The flag at *it, with its value; *it is left on the last argument used. */
static int apply_one(ctx *c, const cJSON **it)
{
	const char *arg = cJSON_GetStringValue(*it);
	if (!arg)
		return dcfs_error_set(c->e, EINVAL, "runArgs: expected strings in %s", c->where);
	const char *value;
	const flag *f = lookup(arg, &value);
	if (!f) {
		int n = (int)strcspn(arg, "=");
		return dcfs_error_set(c->e, ENOTSUP, "runArgs: unsupported docker run flag '%.*s' in %s",
				      n, arg, c->where);
	}
	_cleanup_free_ char *flag_text = strndup(arg, strcspn(arg, "="));
	c->flag = flag_text ? flag_text : arg;
	if (!f->value) {
		if (value && strcmp(value, "true"))
			return strcmp(value, "false") ? bad(c, "expected true or false after", value) : 0;
	} else if (!value) {
		if (!(*it)->next || !cJSON_IsString((*it)->next))
			return dcfs_error_set(c->e, EINVAL, "runArgs: '%s' needs a value in %s", arg,
					      c->where);
		*it = (*it)->next;
		value = (*it)->valuestring;
	}
	int r = f->fn(c, value);
	if (r == -ENOMEM)
		return dcfs_error_set(c->e, ENOMEM, "out of memory");
	return r;
}

int dcfs_run_args_apply(cJSON *config, const char *config_name, dcfs_run_args *out,
			dcfs_error *e)
{
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(config, "runArgs");
	if (args && !cJSON_IsArray(args))
		return dcfs_error_set(e, EINVAL, "runArgs: expected an array in %s", config_name);
	ctx c = {.config = config, .out = out, .where = config_name, .e = e};
	for (const cJSON *it = args ? args->child : NULL; it; it = it->next) {
		int r = apply_one(&c, &it);
		if (r < 0)
			return r;
	}
	return 0;
}

void dcfs_run_args_free(dcfs_run_args *a)
{
	free(a->name);
	free(a->hostname);
	free(a->workdir);
	cJSON_Delete(a->add_hosts);
	cJSON_Delete(a->cap_drop);
	*a = (dcfs_run_args){0};
}
