/* A container's environment (`${containerEnv:V}` substituted once it is known), its command,
 * and its OCI bundle: mounts, init, hostname, hosts, capabilities and seccomp (up.c made them). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "container_setup.h"
#include "jsonc.h"
#include "keep_alive.h"
#include "substitute.h"
#include "up_internal.h"

/* A keep-alive that ends cleanly on SIGTERM: `wait` is interruptible, a foreground sleep
 * is not. */
#define KEEP_ALIVE "echo Container started; trap 'exit 0' TERM; while sleep 1000 & wait $!; do :; done"

static cJSON *container_env(up_ctx *u);

/* `${containerEnv:V}` looks V up in the container's environment ("K=V" strings). */
static const char *env_lookup(const char *name, void *data)
{
	const cJSON *it;
	size_t n = strlen(name);
	cJSON_ArrayForEach(it, (const cJSON *)data)
	{
		const char *kv = cJSON_GetStringValue(it);
		if (kv && !strncmp(kv, name, n) && kv[n] == '=')
			return kv + n + 1;
	}
	return NULL;
}

/* Once the container's environment is known, `${containerEnv:V}` in the configuration
 * (remoteEnv: {"PATH": "${containerEnv:PATH}:/extra"}, lifecycle commands) is replaced. */
int up_substitute_container_env(up_ctx *u)
{
	_cleanup_json_ cJSON *env = container_env(u);
	if (!env)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	dcfs_subst_ctx ctx = {.container_env = env_lookup, .container_env_data = env,
			      .source = u->d.config_file};
	return dcfs_subst_json(&ctx, u->merged, u->e);
}

/* The container's environment: the image's Env, then containerEnv. */
static cJSON *container_env(up_ctx *u)
{
	const cJSON *image = cJSON_GetObjectItemCaseSensitive(u->image_config, "config");
	cJSON *env = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(image, "Env"), true);
	if (!cJSON_IsArray(env)) {
		cJSON_Delete(env);
		env = cJSON_CreateArray();
		dcfs_env_set(env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, cfg(u, "containerEnv")) if (cJSON_IsString(it))
		dcfs_env_set(env, it->string, it->valuestring);
	return env;
}

/* overrideCommand (default true): the keep-alive; else the image's Entrypoint and Cmd. With
 * the features' entrypoints, the reference CLI's script (keep_alive.h) runs them first and
 * then execs the image's Entrypoint and Cmd (overrideCommand false) or waits. */
static cJSON *container_args(up_ctx *u)
{
	const cJSON *image = cJSON_GetObjectItemCaseSensitive(u->image_config, "config");
	cJSON *args = cJSON_CreateArray();
	const cJSON *entrypoints = cfg(u, "entrypoints");
	if (args && cJSON_GetArraySize(entrypoints) > 0) {
		_cleanup_free_ char *script = dcfs_keep_alive_script(entrypoints);
		const char *const words[] = {"/bin/sh", "-c", script ? script : "exit 1", "-"};
		for (size_t i = 0; i < ELEMENTSOF(words); i++)
			cJSON_AddItemToArray(args, cJSON_CreateString(words[i]));
		if (!cJSON_IsFalse(cfg(u, "overrideCommand")))
			return args;
	} else if (!cJSON_IsFalse(cfg(u, "overrideCommand"))) {
		const char *const words[] = {"/bin/sh", "-c", KEEP_ALIVE};
		for (size_t i = 0; i < ELEMENTSOF(words); i++)
			cJSON_AddItemToArray(args, cJSON_CreateString(words[i]));
		return args;
	}
	static const char *const keys[] = {"Entrypoint", "Cmd"};
	for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
		const cJSON *it;
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(image, keys[k]))
			cJSON_AddItemToArray(args, cJSON_Duplicate(it, true));
	}
	return args;
}

/* init (or runArgs --init): dcfs-init, installed next to this binary, bound read-only at
 * /.dcfs/init and run as process 1 with the container's command as its arguments. */
static int add_init(up_ctx *u, cJSON *args, cJSON *mounts)
{
	dcfs_error *e = u->e;
	if (!cJSON_IsTrue(cfg(u, "init")))
		return 0;
	char exe[PATH_MAX];
	int r = up_self_exe(exe, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *init = NULL;
	if (asprintf(&init, "%.*s/dcfs-init", (int)(strrchr(exe, '/') - exe), exe) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (access(init, X_OK) < 0)
		return dcfs_error_set(e, errno, "init: cannot run '%s': %m", init);
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "destination", "/.dcfs/init");
	cJSON_AddStringToObject(m, "type", "bind");
	cJSON_AddStringToObject(m, "source", init);
	cJSON *o = cJSON_AddArrayToObject(m, "options");
	cJSON_AddItemToArray(o, cJSON_CreateString("bind"));
	cJSON_AddItemToArray(o, cJSON_CreateString("ro"));
	cJSON_AddItemToArray(mounts, m);
	return cJSON_InsertItemInArray(args, 0, cJSON_CreateString("/.dcfs/init"))
		       ? 0
		       : dcfs_error_set(e, ENOMEM, "out of memory");
}

/* The workspace folder in the container: an absolute path that neither covers the root nor
 * lands in a kernel filesystem that runc fills (runc would make /dev's nodes in the user's
 * folder). `path` is normalized first: "//", "/." and "/./" say "/" too. */
static int check_workspace_folder(const char *config_file, const char *what, const char *path,
				  dcfs_error *e)
{
	static const char *const refused[] = {"", "/proc", "/sys", "/dev"};
	char norm[4096];
	size_t n = 0;
	if (path[0] != '/')
		return dcfs_error_set(e, EINVAL, "%s: %s '%s' is not an absolute path",
				      config_file, what, path);
	for (const char *p = path; *p && n < sizeof(norm) - 2;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.')) {
			p += len;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return dcfs_error_set(e, EINVAL, "%s: %s '%s' may not contain '..'",
					      config_file, what, path);
		n += (size_t)snprintf(norm + n, sizeof(norm) - n, "/%.*s", (int)len, p);
		p += len;
	}
	norm[n < sizeof(norm) ? n : sizeof(norm) - 1] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
		size_t len = strlen(refused[i]);
		if (!strncmp(norm, refused[i], len) && (norm[len] == '\0' || (len && norm[len] == '/')))
			return dcfs_error_set(e, EINVAL,
					      "%s: %s '%s' would mount the workspace over %s; "
					      "choose a folder of its own such as /workspaces/NAME",
					      config_file, what, path, len ? refused[i] : "the container's root");
	}
	return 0;
}

/* The workspace at workspaceMount's target (workspaceFolder for the default mount): the
 * workspace view of its bind source, or the volume's folder (made as a `mounts` volume is). */
static int add_workspace(up_ctx *u, const char *volumes, cJSON *mounts)
{
	const char *dest = up_workspace_destination(u);
	int r = check_workspace_folder(u->d.config_file,
				       u->ws_target ? "workspaceMount's target" : "workspaceFolder",
				       dest, u->e);
	if (r < 0)
		return r;
	_cleanup_free_ char *volume = NULL;
	if (up_workspace_is_volume(u)) {
		if (asprintf(&volume, "%s/%s", volumes, u->ws.source) < 0)
			return dcfs_error_set(u->e, ENOMEM, "out of memory");
		r = dcfs_mkdir_p(volume, 0755);
		if (r < 0)
			return dcfs_error_set(u->e, r, "cannot create volume '%s': %s", volume,
					      strerror(-r));
	}
	cJSON *ws = cJSON_CreateObject();
	cJSON_AddStringToObject(ws, "destination", dest);
	cJSON_AddStringToObject(ws, "type", "bind");
	cJSON_AddStringToObject(ws, "source", volume ? volume : u->workspace_mnt);
	cJSON *wo = cJSON_AddArrayToObject(ws, "options");
	cJSON_AddItemToArray(wo, cJSON_CreateString("rbind"));
	cJSON_AddItemToArray(wo, cJSON_CreateString(u->ws.readonly ? "ro" : "rw"));
	cJSON_AddItemToArray(mounts, ws);
	return 0;
}

int up_write_bundle(up_ctx *u)
{
	dcfs_error *e = u->e;
	_cleanup_json_ cJSON *args = container_args(u), *env = container_env(u);
	_cleanup_json_ cJSON *mounts = cJSON_CreateArray();
	_cleanup_free_ char *bundle = dcfs_container_path(u->s, u->c.id, "bundle");
	_cleanup_free_ char *store = realpath(u->s->root, NULL), *volumes = NULL;
	if (!args || !env || !mounts || !bundle || !store ||
	    asprintf(&volumes, "%s/volumes", store) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (!args->child)
		return dcfs_error_set(e, EINVAL, "overrideCommand is false and image '%s' has no command",
				      u->ref);
	int r = add_workspace(u, volumes, mounts);
	r = r ?: dcfs_mounts_convert(cfg(u, "mounts"), volumes, mounts, e);
	if (r < 0)
		return dcfs_error_wrap(e, "%s", u->d.config_file);
	if ((r = add_init(u, args, mounts)) < 0)
		return r;
	char hostname[64]; /* the kernel's limit */
	snprintf(hostname, sizeof(hostname), "%s", u->run_args.hostname ?: u->c.name);
	_cleanup_free_ char *hosts = NULL;
	if (u->run_args.add_hosts) {
		if (!(hosts = dcfs_container_path(u->s, u->c.id, "hosts")))
			return dcfs_error_set(e, ENOMEM, "out of memory");
		if ((r = dcfs_hosts_write(hosts, u->run_args.add_hosts, e)) < 0)
			return r;
	}
	dcfs_bundle b = {
		.rootfs = u->rootfs,
		.hostname = hostname,
		.hosts = hosts,
		.args = args,
		.env = env,
		.user = &u->container_user,
		.cwd = u->run_args.workdir ?: u->remote.workspace_folder,
		.mounts = mounts,
		.conf = &u->conf,
	};
	return dcfs_bundle_write(&b, bundle, e);
}
