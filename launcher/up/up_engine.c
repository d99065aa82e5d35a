/* `up` on an engine (podman or docker through the Engine API, launcher/engine/engine.h) rather
 * than runc: which engine (--engine, customizations.dcfs.engine, or the one that answers for a
 * Compose configuration), the image in the engine (inspected, pulled by the engine when
 * missing), the container made with the reference CLI's labels from the create body
 * (engine_spec.h) or by the compose tool (compose.h), dcfs's workspace view bound into it, and
 * the users read from the container's own /etc/passwd and /etc/group (copied out into
 * STORE/containers/<id>/engine-root/etc/, which stands for the container's root wherever up
 * reads users or the login shell). The lifecycle commands and userEnvProbe then run through the
 * engine (runtime.h: dcfs_engine_exec_spawn). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "engine_spec.h"
#include "fsutil.h"
#include "jsonc.h"
#include "ref.h"
#include "up_internal.h"

static const cJSON *dcfs_customization(const cJSON *config, const char *key)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(config, "customizations");
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "dcfs"), key);
}

bool up_is_compose(const up_ctx *u)
{
	return cJSON_HasObjectItem(u->d.config, "dockerComposeFile");
}

/* The kind of the engine answering at DOCKER_HOST: podman says so in /version's components. */
static int kind_at_docker_host(char **kind, dcfs_error *e)
{
	_cleanup_(dcfs_engine_close) dcfs_engine en = {0};
	int r = dcfs_engine_open("docker", NULL, &en, e);
	_cleanup_json_ cJSON *v = NULL;
	if (r < 0 || (r = dcfs_engine_call(&en, "GET", "/version", NULL, "version", &v, e)) < 0)
		return r;
	const cJSON *it;
	bool podman = false;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(v, "Components"))
	{
		const char *name =
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "Name"));
		podman |= name && strstr(name, "Podman") != NULL;
	}
	*kind = strdup(podman ? "podman" : "docker");
	return *kind ? 0 : dcfs_error_set(e, ENOMEM, "out of memory");
}

/* A Compose configuration without an engine named: the one at DOCKER_HOST, else podman's
 * socket, else docker's. */
static int compose_engine(up_ctx *u, char **kind)
{
	if (getenv("DOCKER_HOST") && *getenv("DOCKER_HOST"))
		return kind_at_docker_host(kind, u->e);
	static const char *const kinds[] = {"podman", "docker"};
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
		_cleanup_(dcfs_engine_close) dcfs_engine en = {0};
		_cleanup_error_ dcfs_error quiet = {0};
		if (dcfs_engine_open(kinds[i], NULL, &en, &quiet) >= 0)
			return (*kind = strdup(kinds[i])) ? 0
							  : dcfs_error_set(u->e, ENOMEM, "out of memory");
	}
	return dcfs_error_set(u->e, ENOTSUP,
			      "%s: a Docker Compose configuration runs on an engine, and neither "
			      "podman's nor docker's answers (start one, or set DOCKER_HOST)",
			      u->d.config_file);
}

/* The engine the folder's container (of this configuration) runs on, if it has one: `up` and
 * `rebuild` without --engine keep it. */
static int existing_engine(up_ctx *u, char **kind, char **host)
{
	_cleanup_free_ char *variant = NULL;
	_cleanup_(dcfs_container_free) dcfs_container c = {0};
	if (dcfs_container_variant(u->d.folder, u->d.config_file, u->d.given, &variant) < 0)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	int r = dcfs_container_find_variant(u->s, u->d.folder, variant, &c, u->e);
	if (r == -ENOENT)
		return dcfs_error_clear(u->e), 0;
	if (r < 0)
		return r;
	if (dcfs_container_on_engine(&c)) {
		*kind = TAKE_PTR(c.engine);
		*host = TAKE_PTR(c.engine_host);
	}
	return 0;
}

int up_engine_choose(up_ctx *u)
{
	dcfs_error *e = u->e;
	int r;
	const char *kind = u->o->engine;
	const cJSON *given = dcfs_customization(u->d.config, "engine");
	if (!kind && given && !cJSON_IsString(given))
		return dcfs_error_set(e, EINVAL, "%s: customizations.dcfs.engine must be a string",
				      u->d.config_file);
	if (!kind)
		kind = cJSON_GetStringValue(given);
	_cleanup_free_ char *had = NULL, *had_host = NULL;
	if (!kind && (r = existing_engine(u, &had, &had_host)) < 0)
		return r;
	if (!kind)
		kind = had;
	if (kind && !dcfs_engine_kind_valid(kind))
		return dcfs_error_set(e, EINVAL, "%s: unknown engine '%s' (runc, podman or docker)",
				      u->o->engine ? "--engine" : u->d.config_file, kind);
	_cleanup_free_ char *found = NULL;
	if (!kind && up_is_compose(u)) {
		r = compose_engine(u, &found);
		if (r < 0)
			return r;
		kind = found;
	}
	if (kind && strcmp(kind, "runc") && u->o->prebuild)
		return dcfs_error_set(e, ENOTSUP, "%s: prebuilds are snapshots of dcfs's own root "
				      "view: they run on runc, not %s", u->d.config_file, kind);
	if (!kind || !strcmp(kind, "runc")) {
		if (up_is_compose(u))
			return dcfs_error_set(e, ENOTSUP,
					      "%s: a Docker Compose configuration needs an engine "
					      "(--engine podman or --engine docker), not runc",
					      u->d.config_file);
		return 0;
	}
	if (!(u->engine_kind = strdup(kind)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	/* the existing container's engine where it was; else $DOCKER_HOST or the default */
	r = dcfs_engine_open(kind, had && kind == had ? had_host : NULL, &u->en, e);
	return r ?: dcfs_engine_remember(u->s, kind, u->en.host, e);
}

/* The image's inspect as the OCI config shape the rest of `up` reads ({"config": {...}}). */
static int keep_image_config(up_ctx *u, const cJSON *inspect)
{
	cJSON_Delete(u->image_config);
	u->image_config = cJSON_CreateObject();
	cJSON *config = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(inspect, "Config"), 1);
	free(u->engine_image_text);
	u->engine_image_text = cJSON_PrintUnformatted(inspect);
	free(u->image_digest);
	u->image_digest = strdup(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(inspect, "Id"))
				 ?: "");
	if (!u->image_config || !u->engine_image_text || !u->image_digest ||
	    !cJSON_AddItemToObject(u->image_config, "config", config ?: cJSON_CreateObject()))
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	return 0;
}

int up_engine_image(up_ctx *u)
{
	dcfs_error *e = u->e;
	if (up_is_compose(u))
		return 0; /* the compose tool gets the services' images */
	int r = up_ensure_build(u);
	if (r < 0)
		return r;
	r = up_image_name(u, u->build_ref ?: cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
						      u->d.config, "image")));
	if (r < 0)
		return r;
	_cleanup_json_ cJSON *inspect = NULL;
	r = dcfs_engine_image_inspect(&u->en, u->image_ref, &inspect, e);
	if (r == -ENOENT && !u->o->no_pull && !u->build_ref) {
		dcfs_error_clear(e);
		dcfs_report_note(u->o->report, "pulling %s into %s: it does not have it",
				 u->image_ref, u->engine_kind);
		r = dcfs_engine_image_pull(&u->en, u->image_ref, u->o->report, e);
		r = r ?: dcfs_engine_image_inspect(&u->en, u->image_ref, &inspect, e);
	}
	if (r == -ENOENT)
		return dcfs_error_set(e, ENOENT, "image '%s' is not in %s%s", u->image_ref,
				      u->engine_kind,
				      u->build_ref ? " (build it there again: 'dcfs rebuild --full')"
						   : "");
	return r < 0 ? r : keep_image_config(u, inspect);
}

int up_engine_metadata(up_ctx *u, cJSON **metadata)
{
	*metadata = NULL;
	if (!u->engine_image_text)
		return 0;
	return dcfs_devcontainer_config_metadata(&u->d, u->engine_image_text, metadata, u->e);
}

/* The labels of the container: the reference CLI's, and dcfs's own. */
static cJSON *labels(up_ctx *u)
{
	cJSON *l = cJSON_CreateObject();
	_cleanup_free_ char *store = realpath(u->s->root, NULL);
	if (!l || !store || !cJSON_AddStringToObject(l, "devcontainer.local_folder", u->d.folder) ||
	    !cJSON_AddStringToObject(l, "devcontainer.config_file", u->d.config_file) ||
	    !cJSON_AddStringToObject(l, "dcfs.store", store) ||
	    !cJSON_AddStringToObject(l, "dcfs.container", u->c.id)) {
		cJSON_Delete(l);
		return NULL;
	}
	return l;
}

static cJSON *volume_labels(up_ctx *u)
{
	cJSON *l = cJSON_CreateObject();
	_cleanup_free_ char *store = realpath(u->s->root, NULL);
	if (!l || !store || !cJSON_AddStringToObject(l, "dcfs.store", store)) {
		cJSON_Delete(l);
		return NULL;
	}
	return l;
}

/* Where the workspace view is bound in the container: workspaceMount's target, else the
 * workspace folder; none for a Compose configuration whose workspace folder is "/" (its own
 * files mount what they mount). */
static const char *workspace_target(const up_ctx *u)
{
	if (up_workspace_is_volume(u))
		return NULL;
	if (u->ws_target)
		return u->ws.target;
	const char *wf = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(u->d.workspace, "workspaceFolder"));
	return wf && strcmp(wf, "/") ? wf : NULL;
}

/* The workspaceMount as a mount string when it is a volume (the engine makes it). */
static cJSON *extra_mounts(const up_ctx *u)
{
	cJSON *m = cJSON_CreateArray();
	if (m && up_workspace_is_volume(u)) {
		_cleanup_free_ char *s = NULL;
		if (asprintf(&s, "type=volume,source=%s,target=%s", u->ws.source, u->ws.target) < 0 ||
		    !cJSON_AddItemToArray(m, cJSON_CreateString(s))) {
			cJSON_Delete(m);
			return NULL;
		}
	}
	return m;
}

int up_engine_check(up_ctx *u)
{
	if (up_is_compose(u))
		return 0;
	_cleanup_json_ cJSON *body = NULL, *mounts = extra_mounts(u);
	_cleanup_free_ char *name = NULL;
	dcfs_engine_spec spec = {.kind = u->engine_kind, .image = u->image_ref ?: "image",
				 .config = u->merged,
				 .config_name = u->d.config_file, .image_config = NULL,
				 .workspace_source = "/", .workspace_target = workspace_target(u),
				 .mounts_extra = mounts};
	if (!mounts)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	return dcfs_engine_spec_body(&spec, &body, &name, u->e);
}

/* The named volumes of the body made first, labelled (podman ignores a create body's volume
 * labels; an existing volume is kept as it is). */
static int make_volumes(up_ctx *u, const cJSON *body, const cJSON *labels)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(
				      cJSON_GetObjectItemCaseSensitive(body, "HostConfig"), "Mounts"))
	{
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "Type"));
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "Source"));
		if (!type || strcmp(type, "volume") || !name || !*name)
			continue;
		_cleanup_json_ cJSON *req = cJSON_CreateObject();
		if (!req || !cJSON_AddStringToObject(req, "Name", name) ||
		    !cJSON_AddItemToObject(req, "Labels", cJSON_Duplicate(labels, 1)))
			return dcfs_error_set(u->e, ENOMEM, "out of memory");
		_cleanup_free_ char *what = NULL;
		if (asprintf(&what, "create volume '%s'", name) < 0)
			return dcfs_error_set(u->e, ENOMEM, "out of memory");
		int r = dcfs_engine_call(&u->en, "POST", "/volumes/create", req, what, NULL, u->e);
		if (r == -EEXIST || (r == -EIO && u->e->msg && strstr(u->e->msg, "exists")))
			/* there already (podman says so with a 500) */
			r = 0, dcfs_error_clear(u->e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Make the engine's container (not a Compose one) and record its id. */
static int create(up_ctx *u)
{
	dcfs_error *e = u->e;
	_cleanup_json_ cJSON *l = labels(u), *vl = volume_labels(u), *mounts = extra_mounts(u);
	if (!l || !vl || !mounts)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	const char *target = workspace_target(u);
	dcfs_engine_spec spec = {
		.kind = u->engine_kind,
		.image = u->image_ref,
		.config = u->merged,
		.config_name = u->d.config_file,
		.image_config = cJSON_GetObjectItemCaseSensitive(u->image_config, "config"),
		.labels = l,
		.workspace_source = target ? u->workspace_mnt : NULL,
		.workspace_target = target,
		.mounts_extra = mounts,
		.volume_labels = vl,
	};
	_cleanup_json_ cJSON *body = NULL;
	_cleanup_free_ char *name = NULL, *id = NULL;
	int r = dcfs_engine_spec_body(&spec, &body, &name, e);
	r = r ?: make_volumes(u, body, vl);
	r = r ?: dcfs_engine_create(&u->en, name ? name : u->c.name, body, &id, e);
	r = r ?: dcfs_container_table_set_engine_id(u->s, u->c.id, id, e);
	if (r >= 0) {
		free(u->c.engine_id);
		u->c.engine_id = TAKE_PTR(id);
	}
	return r;
}

/* The Compose project up (its override file written first), and the service's container
 * recorded; then its image's metadata merged into the configuration. */
static int compose_up(up_ctx *u)
{
	dcfs_error *e = u->e;
	_cleanup_json_ cJSON *l = labels(u);
	_cleanup_free_ char *path = dcfs_container_path(u->s, u->c.id, "compose-override.json");
	_cleanup_free_ char *saved = dcfs_container_path(u->s, u->c.id, "compose.json");
	_cleanup_free_ char *action = dcfs_container_path(u->s, u->c.id, "shutdown-action");
	if (!l || !path || !saved || !action)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	const cJSON *oc = cfg(u, "overrideCommand");
	const char *target = workspace_target(u);
	dcfs_compose_override o = {.keep_alive = cJSON_IsTrue(oc), .labels = l,
				   .workspace_source = target ? u->workspace_mnt : NULL,
				   .workspace_target = target, .config = u->merged};
	int r = dcfs_compose_write_override(&u->compose, &o, path, e);
	r = r ?: dcfs_compose_save(&u->compose, saved, e);
	const char *sa = cfg_string(u, "shutdownAction") ?: "stopCompose";
	if (r >= 0) {
		_cleanup_close_ int fd = open(action, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || dcfs_write_all(fd, sa, strlen(sa)) < 0)
			return dcfs_error_set(e, errno, "cannot write '%s': %m", action);
	}
	r = r ?: dcfs_compose_up(&u->compose, u->o->remove_existing, u->o->report, e);
	_cleanup_free_ char *id = NULL;
	r = r ?: dcfs_compose_container(&u->compose, &u->en, u->compose.service, &id, e);
	if (r == -ENOENT)
		return dcfs_error_set(e, ENOENT, "%s: the compose tool started no container for "
				      "service '%s'", u->d.config_file, u->compose.service);
	r = r ?: dcfs_container_table_set_engine_id(u->s, u->c.id, id, e);
	if (r < 0)
		return r;
	free(u->c.engine_id);
	u->c.engine_id = TAKE_PTR(id);
	/* the service's image, for its metadata and its user */
	_cleanup_json_ cJSON *info = NULL, *inspect = NULL, *metadata = NULL, *merged = NULL;
	r = dcfs_engine_inspect(&u->en, u->c.engine_id, false, &info, e);
	const char *image = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "Image"));
	r = r ?: image ? dcfs_engine_image_inspect(&u->en, image, &inspect, e) : 0;
	if (r < 0 || !inspect)
		return r;
	free(u->image_ref), free(u->ref);
	u->image_ref = strdup(image), u->ref = strdup(image);
	r = keep_image_config(u, inspect);
	r = r ?: up_engine_metadata(u, &metadata);
	r = r ?: dcfs_devcontainer_merge(u->d.config, metadata, &merged, e);
	if (r < 0)
		return r;
	cJSON_Delete(u->merged);
	u->merged = TAKE_PTR(merged);
	return 0;
}

static const char *const user_files[] = {"passwd", "group"};

/* STORE/containers/<id>/engine-root/etc, made: malloc'd, NULL with u->e set. */
static char *engine_etc(up_ctx *u)
{
	char *etc = dcfs_container_path(u->s, u->c.id, "engine-root/etc");
	if (!etc)
		return dcfs_error_set(u->e, ENOMEM, "out of memory"), NULL;
	int r = dcfs_mkdir_p(etc, 0700);
	if (r < 0) {
		dcfs_error_set(u->e, -r, "cannot make '%s': %s", etc, strerror(-r));
		free(etc);
		return NULL;
	}
	return etc;
}

/* Run `cmd` as root in the container with its output into `out_fd`: its exit code. */
static int run_as_root(up_ctx *u, char *const *cmd, int in_fd, int out_fd, int err_fd)
{
	dcfs_user root = {.uid = 0, .gid = 0};
	pid_t pid;
	int r = dcfs_engine_exec_spawn(&u->target, &root, "/", NULL, cmd, in_fd, out_fd, err_fd,
				       &pid);
	if (r < 0)
		return dcfs_error_set(u->e, -r, "cannot run a command in %s: %s", u->c.name,
				      strerror(-r));
	int status = dcfs_wait(pid);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* /etc/passwd and /etc/group of the container into STORE/containers/<id>/engine-root/etc/,
 * which becomes u->rootfs for the users and the login shell. */
static int copy_users(up_ctx *u)
{
	dcfs_error *e = u->e;
	_cleanup_free_ char *etc = engine_etc(u);
	_cleanup_free_ char *err_path = dcfs_container_path(u->s, u->c.id, "engine-root/err");
	if (!etc || !err_path)
		return etc ? dcfs_error_set(e, ENOMEM, "out of memory") : -EIO;
	for (size_t i = 0; i < ELEMENTSOF(user_files); i++) {
		_cleanup_free_ char *to = NULL, *from = NULL;
		if (asprintf(&to, "%s/%s", etc, user_files[i]) < 0 ||
		    asprintf(&from, "/etc/%s", user_files[i]) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		_cleanup_close_ int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		_cleanup_close_ int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || err < 0)
			return dcfs_error_set(e, errno, "cannot write '%s': %m", to);
		char *cmd[] = {"cat", from, NULL};
		int code = run_as_root(u, cmd, -1, fd, err);
		if (code < 0)
			return code;
		if (code == 125) {
			_cleanup_free_ char *why = dcfs_log_tail(err_path, 0);
			return dcfs_error_set(e, EIO, "container %s: %s", u->c.name, why ? why : "");
		}
		/* a root without the file (exit 1) leaves it empty: numeric users only */
	}
	free(u->rootfs);
	u->rootfs = dcfs_container_path(u->s, u->c.id, "engine-root");
	return u->rootfs ? 0 : dcfs_error_set(e, ENOMEM, "out of memory");
}

/* The container's root as the host sees it: the engine's overlay "merged" folder of a running
 * container (podman's and docker's overlay drivers mount it on the host). 1 with u->rootfs
 * set to it, 0 when the engine shows none (then the users are copied out through exec). */
static int merged_root(up_ctx *u)
{
	_cleanup_json_ cJSON *info = NULL;
	int r = dcfs_engine_inspect(&u->en, u->c.engine_id, false, &info, u->e);
	if (r < 0)
		return r;
	const cJSON *gd = cJSON_GetObjectItemCaseSensitive(info, "GraphDriver");
	const char *merged = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(gd, "Data"), "MergedDir"));
	_cleanup_free_ char *etc = NULL;
	if (!merged || merged[0] != '/' || asprintf(&etc, "%s/etc", merged) < 0 ||
	    access(etc, F_OK) < 0)
		return 0;
	free(u->rootfs);
	if (!(u->rootfs = strdup(merged)))
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	u->engine_root_direct = true;
	return 1;
}

/* /etc/passwd and /etc/group from the merged root into engine-root/etc/ (for `dcfs exec`'s
 * login shell later); a file the root lacks is left out. */
static int keep_users(up_ctx *u)
{
	dcfs_error *e = u->e;
	_cleanup_free_ char *etc = engine_etc(u);
	if (!etc)
		return -EIO;
	for (size_t i = 0; i < ELEMENTSOF(user_files); i++) {
		_cleanup_free_ char *from = NULL, *to = NULL;
		if (asprintf(&from, "%s/etc/%s", u->rootfs, user_files[i]) < 0 ||
		    asprintf(&to, "%s/%s", etc, user_files[i]) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		/* the root's own file, not a link out of it */
		_cleanup_close_ int in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (out < 0)
			return dcfs_error_set(e, errno, "cannot write '%s': %m", to);
		char buf[65536];
		ssize_t n;
		while (in >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
			if (dcfs_write_all(out, buf, (size_t)n) < 0)
				return dcfs_error_set(e, errno, "cannot write '%s': %m", to);
	}
	return 0;
}

/* updateRemoteUserUID is not applied in an engine's container whose root the host cannot see:
 * said when it would matter. */
static void warn_uid(up_ctx *u)
{
	struct stat st;
	if (cJSON_IsFalse(cfg(u, "updateRemoteUserUID")) || stat(u->d.folder, &st) < 0 ||
	    st.st_uid == 0 || u->remote.user.uid == 0 || u->remote.user.uid == st.st_uid)
		return;
	dcfs_report_warning(u->o->report,
			    "updateRemoteUserUID: not applied on %s (the remote user keeps uid %u; "
			    "the folder's owner is %u)",
			    u->engine_kind, u->remote.user.uid, (unsigned)st.st_uid);
}

int up_engine_start(up_ctx *u)
{
	dcfs_error *e = u->e;
	int r = up_mount_all(u); /* the workspace view, before the engine binds it */
	if (r < 0)
		return r;
	if (up_is_compose(u)) {
		r = compose_up(u);
	} else {
		_cleanup_free_ char *state = NULL;
		r = u->c.engine_id ? dcfs_engine_state(&u->en, u->c.engine_id, &state, e) : -ENOENT;
		if (r == -ENOENT) {
			dcfs_error_clear(e);
			r = create(u);
		}
		r = r ?: dcfs_engine_start(&u->en, u->c.engine_id, e);
	}
	if (r < 0)
		return r;
	u->target = (dcfs_engine_target){.kind = u->engine_kind, .host = u->en.host,
					  .id = u->c.engine_id};
	u->runc.engine = &u->target;
	r = merged_root(u);
	if (r < 0)
		return r;
	r = r > 0 ? keep_users(u) : copy_users(u);
	r = r ?: up_users(u);
	if (r >= 0 && u->engine_root_direct) /* the root as the host sees it: as on runc */
		r = r ?: up_update_uid(u) ?: up_home_files(u);
	else if (r >= 0)
		warn_uid(u);
	if (r < 0)
		return r;
	r = dcfs_remote_save(u->s, u->c.id, &u->remote, e);
	return r ?: dcfs_container_set_state(u->s, u->c.id, "running", e);
}

/* Is the container running in the engine, with its workspace view mounted? */
int up_engine_running(up_ctx *u, bool *running)
{
	*running = false;
	if (!u->c.engine_id)
		return 0;
	_cleanup_free_ char *state = NULL;
	int r = dcfs_engine_state(&u->en, u->c.engine_id, &state, u->e);
	if (r == -ENOENT) {
		dcfs_error_clear(u->e);
		return 0;
	}
	if (r < 0)
		return r;
	*running = !strcmp(state, "running") &&
		   (up_workspace_is_volume(u) || !workspace_target(u) ||
		    dcfs_container_is_mounted(u->workspace_mnt));
	if (*running) {
		u->target = (dcfs_engine_target){.kind = u->engine_kind, .host = u->en.host,
						  .id = u->c.engine_id};
		u->runc.engine = &u->target;
		free(u->rootfs);
		u->rootfs = dcfs_container_path(u->s, u->c.id, "engine-root");
	}
	return 0;
}

/* $HOME/config in the container, as up_link_config makes it on runc: through the engine. */
int up_engine_link_config(up_ctx *u, const char *target)
{
	_cleanup_free_ char *link = NULL;
	if (asprintf(&link, "%s/config", u->remote.user.home) < 0)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	char owner[32];
	snprintf(owner, sizeof(owner), "%u:%u", u->remote.user.uid, u->remote.user.gid);
	char *full[] = {"/bin/sh", "-c",
			"[ -e \"$1\" ] || [ -L \"$1\" ] || { mkdir -p \"${1%/*}\" && "
			"ln -s \"$2\" \"$1\" && chown -h \"$3\" \"$1\"; }",
			"-", link, (char *)target, owner, NULL};
	int code = run_as_root(u, full, -1, -1, -1);
	if (code < 0)
		return code;
	return code ? dcfs_error_set(u->e, EIO, "cannot link '%s' in container %s (exit %d)", link,
				     u->c.name, code)
		    : 0;
}

int up_engine_measure(up_ctx *u)
{
	return dcfs_container_engine_measure(u->s, &u->c, &u->en, u->e);
}
