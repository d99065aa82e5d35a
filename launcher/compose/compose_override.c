/* The override file dcfs adds to a Compose project (compose.h): for the dev container's
 * service, the reference CLI's keep-alive entrypoint (overrideCommand), its labels, the
 * workspace view bound at the workspace folder, and containerEnv, containerUser, mounts,
 * capAdd, securityOpt, privileged and init. Written as JSON, which compose tools read as YAML;
 * its `version` is the first file's, as the reference CLI writes it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "compose_internal.h"
#include "fsutil.h"
#include "jsonc.h"
#include "mount_spec.h"

/* The reference CLI's keep-alive ($$: compose's escape of $). */
static const char keep_alive[] = "echo Container started\ntrap \"exit 0\" 15\nexec \"$$@\"\n"
				 "while sleep 1 & wait $$!; do :; done";

static cJSON *volume_of(const cJSON *m, dcfs_error *e)
{
	if (cJSON_IsObject(m))
		return cJSON_Duplicate(m, 1);
	_cleanup_(dcfs_mount_spec_free) dcfs_mount_spec spec = {0};
	if (dcfs_mount_spec_parse(m->valuestring, "mounts", &spec, e) < 0)
		return NULL;
	cJSON *v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "type", spec.type ? spec.type : "volume");
	if (spec.source)
		cJSON_AddStringToObject(v, "source", spec.source);
	cJSON_AddStringToObject(v, "target", spec.target ? spec.target : "/");
	if (spec.readonly)
		cJSON_AddTrueToObject(v, "read_only");
	return v;
}

static int copy_list(cJSON *svc, const char *to, const cJSON *from)
{
	if (!cJSON_IsArray(from) || !cJSON_GetArraySize(from))
		return 0;
	return cJSON_AddItemToObject(svc, to, cJSON_Duplicate(from, 1)) ? 0 : -ENOMEM;
}

/* `text` with every '$' doubled: compose would substitute ${...} in it otherwise. */
static char *dollars_kept(const char *text)
{
	size_t n = 0;
	for (const char *p = text; *p; p++)
		n += *p == '$' ? 2 : 1;
	char *out = malloc(n + 1), *o = out;
	for (const char *p = text; out && *p; p++) {
		if (*p == '$')
			*o++ = '$';
		*o++ = *p;
	}
	if (out)
		*o = '\0';
	return out;
}

/* containerEnv as the service's environment, values kept literally; NULL: none. */
static cJSON *environment(const cJSON *env)
{
	if (!cJSON_IsObject(env) || !env->child)
		return NULL;
	cJSON *out = cJSON_CreateObject();
	const cJSON *it;
	cJSON_ArrayForEach(it, env)
		if (out && cJSON_IsString(it)) {
			_cleanup_free_ char *v = dollars_kept(it->valuestring);
			if (v)
				cJSON_AddStringToObject(out, it->string, v);
		}
	return out;
}

/* Named volumes used by the service are declared at the top, as compose wants them. */
static int declare_volumes(cJSON *root, const cJSON *volumes)
{
	const cJSON *v;
	cJSON *top = NULL;
	cJSON_ArrayForEach(v, volumes)
	{
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "type"));
		const char *src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "source"));
		if (!type || strcmp(type, "volume") || !src || !*src)
			continue;
		if (!top && !(top = cJSON_AddObjectToObject(root, "volumes")))
			return -ENOMEM;
		if (!cJSON_HasObjectItem(top, src) && !cJSON_AddObjectToObject(top, src))
			return -ENOMEM;
	}
	return 0;
}

cJSON *dcfs_compose_override_json(const dcfs_compose *c, const dcfs_compose_override *o,
				  dcfs_error *e)
{
	_cleanup_json_ cJSON *root = cJSON_CreateObject();
	const cJSON *first = cJSON_GetArrayItem(c->files, 0);
	_cleanup_free_ char *version = first ? dcfs_compose_top_value(first->valuestring, "version")
					     : NULL;
	if (version)
		cJSON_AddStringToObject(root, "version", version);
	cJSON *svc = cJSON_AddObjectToObject(cJSON_AddObjectToObject(root, "services"), c->service);
	if (!svc)
		return dcfs_error_set(e, ENOMEM, "out of memory"), NULL;
	if (o->keep_alive) {
		cJSON *ep = cJSON_AddArrayToObject(svc, "entrypoint");
		cJSON_AddItemToArray(ep, cJSON_CreateString("/bin/sh"));
		cJSON_AddItemToArray(ep, cJSON_CreateString("-c"));
		cJSON_AddItemToArray(ep, cJSON_CreateString(keep_alive));
		cJSON_AddItemToArray(ep, cJSON_CreateString("-"));
	}
	cJSON *labels = cJSON_AddArrayToObject(svc, "labels");
	const cJSON *it;
	cJSON_ArrayForEach(it, o->labels)
		if (cJSON_IsString(it)) {
			_cleanup_free_ char *kv = NULL;
			if (asprintf(&kv, "%s=%s", it->string, it->valuestring) < 0)
				return dcfs_error_set(e, ENOMEM, "out of memory"), NULL;
			cJSON_AddItemToArray(labels, cJSON_CreateString(kv));
		}
	cJSON *volumes = cJSON_CreateArray();
	cJSON_AddItemToObject(svc, "volumes", volumes);
	if (o->workspace_source && o->workspace_target) {
		cJSON *v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "type", "bind");
		cJSON_AddStringToObject(v, "source", o->workspace_source);
		cJSON_AddStringToObject(v, "target", o->workspace_target);
		cJSON_AddItemToArray(volumes, v);
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o->config, "mounts"))
	{
		cJSON *v = volume_of(it, e);
		if (!v)
			return NULL;
		cJSON_AddItemToArray(volumes, v);
	}
	if (declare_volumes(root, volumes) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory"), NULL;
	if (!cJSON_GetArraySize(volumes))
		cJSON_DeleteItemFromObject(svc, "volumes");
	cJSON *env = environment(cJSON_GetObjectItemCaseSensitive(o->config, "containerEnv"));
	if (env)
		cJSON_AddItemToObject(svc, "environment", env);

	const char *user = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(o->config, "containerUser"));
	if (user)
		cJSON_AddStringToObject(svc, "user", user);
	int r = copy_list(svc, "cap_add", cJSON_GetObjectItemCaseSensitive(o->config, "capAdd"));
	r = r ?: copy_list(svc, "security_opt",
			   cJSON_GetObjectItemCaseSensitive(o->config, "securityOpt"));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o->config, "privileged")))
		cJSON_AddTrueToObject(svc, "privileged");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o->config, "init")))
		cJSON_AddTrueToObject(svc, "init");
	if (r < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory"), NULL;
	return TAKE_PTR(root);
}

int dcfs_compose_write_override(dcfs_compose *c, const dcfs_compose_override *o,
				const char *path, dcfs_error *e)
{
	_cleanup_json_ cJSON *json = dcfs_compose_override_json(c, o, e);
	if (!json)
		return e && e->code ? -e->code : -ENOMEM;
	/* one line: YAML takes no tabs, which cJSON indents with */
	_cleanup_free_ char *text = cJSON_PrintUnformatted(json);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!text || fd < 0 || dcfs_write_all(fd, text, strlen(text)) < 0)
		return dcfs_error_set(e, errno ? errno : EIO, "cannot write '%s': %m", path);
	/* a rewrite of the same project replaces the earlier override in the list */
	const cJSON *last = cJSON_GetArrayItem(c->files, cJSON_GetArraySize(c->files) - 1);
	if (last && !strcmp(last->valuestring, path))
		return 0;
	return cJSON_AddItemToArray(c->files, cJSON_CreateString(path))
		       ? 0
		       : dcfs_error_set(e, ENOMEM, "out of memory");
}
