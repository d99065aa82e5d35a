/* A dev container's create body (POST /containers/create): the properties first, in the order
 * the reference CLI puts them on its `docker run` command line (mounts, labels, containerEnv,
 * containerUser), then runArgs (so that a later flag wins), then init, privileged, capAdd and
 * securityOpt, then the keep-alive entrypoint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "engine_spec_internal.h"
#include "jsonc.h"
#include "keep_alive.h"
#include "strbuf.h"

/* The reference CLI's keep-alive (src/spec-node/singleContainer.ts): the feature entrypoints
 * run between the trap and the exec; "$@" is empty unless overrideCommand is false, where it
 * is the image's entrypoint and command. */
static int put_command(spec_ctx *c)
{
	const cJSON *cfg = c->s->config;
	const cJSON *ov = cJSON_GetObjectItemCaseSensitive(cfg, "overrideCommand");
	bool keep_alive = !cJSON_IsFalse(ov);
	_cleanup_free_ char *owned =
		dcfs_keep_alive_script(cJSON_GetObjectItemCaseSensitive(cfg, "entrypoints"));
	if (!owned)
		return -ENOMEM;
	int r = spec_put(c->body, "Entrypoint", cJSON_CreateStringArray((const char *[]){"/bin/sh"}, 1));
	cJSON *cmd = spec_array(c->body, "Cmd");
	r = r ?: spec_append(cmd, cJSON_CreateString("-c"));
	r = r ?: spec_append(cmd, cJSON_CreateString(owned));
	r = r ?: spec_append(cmd, cJSON_CreateString("-"));
	const char *keys[] = {"Entrypoint", "Cmd"};
	for (size_t k = 0; !keep_alive && r >= 0 && k < 2; k++) {
		const cJSON *a;
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(c->s->image_config, keys[k]))
			if (r >= 0 && cJSON_IsString(a))
				r = spec_append(cmd, cJSON_CreateString(a->valuestring));
	}
	return r;
}

static const char *str_of(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int put_mounts(spec_ctx *c)
{
	const dcfs_engine_spec *s = c->s;
	int r = 0;
	if (s->workspace_source) {
		_cleanup_json_ cJSON *ws = cJSON_CreateObject();
		if (!ws || !cJSON_AddStringToObject(ws, "type", "bind") ||
		    !cJSON_AddStringToObject(ws, "source", s->workspace_source) ||
		    !cJSON_AddStringToObject(ws, "target", s->workspace_target ?: ""))
			return -ENOMEM;
		_cleanup_free_ char *label = NULL;
		if (asprintf(&label, "%s: workspaceMount", s->config_name) < 0)
			return -ENOMEM;
		r = spec_mount_add(c, ws, label);
	}
	_cleanup_free_ char *label = NULL;
	if (r < 0 || asprintf(&label, "%s: mounts", s->config_name) < 0)
		return r < 0 ? r : -ENOMEM;
	r = spec_mounts_add(c, cJSON_GetObjectItemCaseSensitive(s->config, "mounts"), label);
	return r ?: spec_mounts_add(c, s->mounts_extra, label);
}

/* Labels, containerEnv ("K=V" each), containerUser. */
static int put_identity(spec_ctx *c)
{
	const cJSON *cfg = c->s->config, *kv;
	int r = spec_put(c->body, "Labels", c->s->labels ? cJSON_Duplicate(c->s->labels, true)
							: cJSON_CreateObject());
	cJSON_ArrayForEach(kv, cJSON_GetObjectItemCaseSensitive(cfg, "containerEnv")) {
		_cleanup_free_ char *line = NULL;
		if (r < 0)
			return r;
		if (!cJSON_IsString(kv))
			return dcfs_error_set(c->e, EINVAL, "%s: containerEnv: '%s' is not a string",
					      c->s->config_name, kv->string);
		if (asprintf(&line, "%s=%s", kv->string, kv->valuestring) < 0)
			return -ENOMEM;
		r = spec_env_set(c->body, line);
	}
	const char *user = str_of(cfg, "containerUser");
	return r ?: user ? spec_put_string(c->body, "User", user) : 0;
}

static int check_string_array(spec_ctx *c, const cJSON *a, const char *prop)
{
	const cJSON *x;
	if (a && !cJSON_IsArray(a))
		return dcfs_error_set(c->e, EINVAL, "%s: %s: expected an array of strings",
				      c->s->config_name, prop);
	cJSON_ArrayForEach(x, a)
		if (!cJSON_IsString(x))
			return dcfs_error_set(c->e, EINVAL, "%s: %s: expected an array of strings",
					      c->s->config_name, prop);
	return 0;
}

/* init, privileged, capAdd, securityOpt: after runArgs on the reference CLI's command line. */
static int put_features(spec_ctx *c)
{
	const cJSON *cfg = c->s->config, *x;
	int r = 0;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "init")))
		r = spec_put(c->host, "Init", cJSON_CreateTrue());
	if (r >= 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "privileged")))
		r = spec_put(c->host, "Privileged", cJSON_CreateTrue());
	const cJSON *caps = cJSON_GetObjectItemCaseSensitive(cfg, "capAdd");
	const cJSON *opts = cJSON_GetObjectItemCaseSensitive(cfg, "securityOpt");
	r = r ?: check_string_array(c, caps, "capAdd");
	r = r ?: check_string_array(c, opts, "securityOpt");
	cJSON_ArrayForEach(x, caps)
		if (r >= 0)
			r = spec_append_string(c->host, "CapAdd", x->valuestring);
	_cleanup_free_ char *label = NULL;
	if (r >= 0 && asprintf(&label, "%s: securityOpt", c->s->config_name) < 0)
		return -ENOMEM;
	cJSON_ArrayForEach(x, opts) if (r >= 0) r = spec_security_opt(c, x->valuestring, label);
	return r;
}

/* --network-alias: the aliases on the network the container joins, a user-defined one. */
static int put_aliases(spec_ctx *c)
{
	if (!c->aliases)
		return 0;
	const char *net = str_of(c->host, "NetworkMode");
	static const char *const builtin[] = {"default", "bridge", "host", "none", NULL};
	bool user_defined = net && strncmp(net, "container:", 10);
	for (size_t i = 0; user_defined && builtin[i]; i++)
		user_defined = strcmp(net, builtin[i]) != 0;
	if (!user_defined) {
		c->flag = "--network-alias";
		return spec_flag_error(c, EINVAL, "aliases need a user-defined --network, not '%s'",
				       net ? net : "default");
	}
	cJSON *ep = spec_object(spec_object(spec_object(c->body, "NetworkingConfig"),
					    "EndpointsConfig"),
				net);
	int r = ep ? spec_put(ep, "Aliases", c->aliases) : -ENOMEM;
	c->aliases = NULL;
	return r;
}

int dcfs_engine_spec_body(const dcfs_engine_spec *s, cJSON **body, char **name, dcfs_error *e)
{
	_cleanup_json_ cJSON *b = cJSON_CreateObject();
	spec_ctx c = {.s = s, .body = b, .e = e};
	*body = NULL;
	if (name)
		*name = NULL;
	if (!b || !(c.host = cJSON_AddObjectToObject(b, "HostConfig")))
		return -ENOMEM;
	int r = spec_put_string(b, "Image", s->image);
	r = r ?: put_mounts(&c);
	r = r ?: put_identity(&c);
	r = r ?: spec_run_args_apply(&c);
	r = r ?: put_features(&c);
	r = r ?: put_aliases(&c);
	r = r ?: put_command(&c);
	cJSON_Delete(c.aliases);
	if (r < 0) {
		free(c.name);
		return r == -ENOMEM && e && !e->msg ? dcfs_error_set(e, ENOMEM, "out of memory")
						    : r;
	}
	*body = TAKE_PTR(b);
	if (name)
		*name = c.name;
	else
		free(c.name);
	return 0;
}
