/* runArgs as `docker run` takes them, mapped onto the create body: one table row per flag (its
 * names, whether it takes a value, where the value goes). Values come as "--flag value",
 * "--flag=value", "-f value" or "-fvalue"; boolean short flags may be grouped ("-it"). A later
 * flag wins over the properties, as on the reference CLI's docker command line. A flag the API
 * cannot express, a missing value or a bad one fails with one line naming the flag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "engine_flags_internal.h"
#include "engine_spec_internal.h"

static const spec_flag *flag_find(const char *name, char short_name)
{
	for (const spec_flag *f = spec_flags; f->handler; f++) {
		if (short_name || !name) { /* name is NULL then (gcc -O3 cannot tell) */
			if (short_name && f->short_name == short_name)
				return f;
		} else if (!strcmp(f->name, name) || (f->alias && !strcmp(f->alias, name))) {
			return f;
		}
	}
	return NULL;
}

/* A boolean flag's "=value": true or false. */
static int flag_bool(spec_ctx *c, const spec_flag *f, const char *value)
{
	if (value && strcmp(value, "true") && strcmp(value, "false"))
		return spec_flag_error(c, EINVAL, "expected true or false, not '%s'", value);
	return f->handler(c, f, value && !strcmp(value, "false") ? "false" : "true");
}

/* Flag `f` written as `arg` with an attached value (NULL: none); may take args[*i + 1]. */
static int flag_run(spec_ctx *c, const spec_flag *f, const char *attached, const cJSON *args,
		    int *i)
{
	if (!f->value)
		return flag_bool(c, f, attached);
	if (!attached) {
		const cJSON *next = cJSON_GetArrayItem(args, *i + 1);
		if (!cJSON_IsString(next))
			return spec_flag_error(c, EINVAL, "missing its value");
		attached = next->valuestring;
		(*i)++;
	}
	return f->handler(c, f, attached);
}

static int long_flag(spec_ctx *c, const char *arg, const cJSON *args, int *i)
{
	_cleanup_free_ char *name = strndup(arg + 2, strcspn(arg + 2, "="));
	if (!name)
		return -ENOMEM;
	const char *eq = strchr(arg, '=');
	const spec_flag *f = flag_find(name, 0);
	_cleanup_free_ char *shown = strndup(arg, eq ? (size_t)(eq - arg) : strlen(arg));
	c->flag = shown;
	if (!f)
		return spec_flag_error(c, ENOTSUP, "not a docker run flag dcfs passes to the engine");
	int r = flag_run(c, f, eq ? eq + 1 : NULL, args, i);
	c->flag = NULL;
	return r;
}

/* "-e K=V", "-eK=V", "-e=K=V", "-it". */
static int short_flags(spec_ctx *c, const char *arg, const cJSON *args, int *i)
{
	for (const char *p = arg + 1; *p; p++) {
		char shown[3] = {'-', *p, '\0'};
		c->flag = shown;
		const spec_flag *f = flag_find(NULL, *p);
		if (!f) {
			int r = spec_flag_error(c, ENOTSUP, "not a docker run flag dcfs passes to the engine");
			c->flag = NULL;
			return r;
		}
		const char *rest = p[1] == '=' ? p + 2 : p[1] ? p + 1 : NULL;
		if (f->value || (rest && p[1] == '=')) {
			int r = flag_run(c, f, rest, args, i);
			c->flag = NULL;
			return r;
		}
		int r = f->handler(c, f, "true");
		c->flag = NULL;
		if (r < 0)
			return r;
	}
	return 0;
}

int spec_run_args_apply(spec_ctx *c)
{
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(c->s->config, "runArgs");
	if (!args)
		return 0;
	if (!cJSON_IsArray(args))
		return dcfs_error_set(c->e, EINVAL, "%s: runArgs: expected an array of strings",
				      c->s->config_name);
	for (int i = 0; i < cJSON_GetArraySize(args); i++) {
		const cJSON *a = cJSON_GetArrayItem(args, i);
		const char *s = cJSON_GetStringValue(a);
		if (!s)
			return dcfs_error_set(c->e, EINVAL, "%s: runArgs: expected an array of strings",
					      c->s->config_name);
		int r;
		if (!strncmp(s, "--", 2) && s[2])
			r = long_flag(c, s, args, &i);
		else if (s[0] == '-' && s[1] && s[1] != '-')
			r = short_flags(c, s, args, &i);
		else
			r = dcfs_error_set(c->e, EINVAL, "%s: runArgs: '%s': not a flag (the image "
							 "and its command are not taken from runArgs)",
					   c->s->config_name, s);
		if (r < 0)
			return r;
	}
	return 0;
}
