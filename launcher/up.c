/* Bringing a folder's dev container up (see up.h): create and start it, or find it running.
 *
 * Image-based configurations only, with the image already in the store (`dcfs import`). The
 * steps: initializeCommand on the host; the container's record and folders; its root (an
 * overlay over the image, `dcfs mount --image REF --upper`) and its workspace view
 * (`dcfs mount --workspace`), both by running this binary so that they detach as any mount
 * does; $HOME/config linked to the workspace's .devcontainer/config; the OCI bundle; runc run;
 * then the lifecycle commands: onCreate, updateContent and postCreate once per container
 * (markers in STORE/containers/<id>/markers/), postStart on each start, postAttach on each up.
 * Running already: only postAttach. Stopped: started again on the same upper directory.
 *
 * Before runc: runArgs are folded into the configuration (run_args.c), the remote user takes
 * the workspace owner's uid (updateRemoteUserUID, user_uid.c), and the caller's ~/.gitconfig
 * and the VS Code machine settings go into the remote user's home (container_setup.c); with
 * `init`, dcfs-init is process 1. After: which forwardPorts/appPort listen on the host. All
 * lifecycle commands run before `up` returns, as the reference CLI's `up` does, unless waitFor
 * is set: then those after it go on in a detached child that writes to the container's log. */
#include <fcntl.h>
#include <stdio.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog.h"
#include "cleanup.h"
#include "container.h"
#include "container_snapshot.h"
#include "container_setup.h"
#include "devcontainer.h"
#include "fsutil.h"
#include "jsonc.h"
#include "lifecycle.h"
#include "prebuild_key.h"
#include "pull.h"
#include "ref.h"
#include "run_args.h"
#include "runtime.h"
#include "snapshot.h"
#include "substitute.h"
#include "up.h"
#include "user_uid.h"
#include "volumes.h"

/* A keep-alive that ends cleanly on SIGTERM: `wait` is interruptible, a foreground sleep
 * is not. */
#define KEEP_ALIVE "echo Container started; trap 'exit 0' TERM; while sleep 1000 & wait $!; do :; done"

typedef struct up {
	const dcfs_up_opts *o;
	dcfs_error *e;
	dcfs_devcontainer d;
	cJSON *merged;	     /* the configuration merged with the image's metadata */
	cJSON *image_config; /* the image's OCI config */
	char *ref;	     /* what the root is mounted from: the image, or a prebuild snapshot */
	char *image_ref;     /* the configuration's image */
	char *image_digest;
	int64_t image_id;
	dcfs_prebuild_key key;
	dcfs_snapshot prebuild; /* the snapshot a new container starts from (image_id 0: none) */
	char *identity;		/* the container's key in the catalog: the folder, or a prebuild's */
	bool created;		/* made by this `up` */
	dcfs_store *s;
	dcfs_container c;
	char *runc_root, *log, *rootfs, *workspace_mnt, *markers;
	dcfs_runc runc;
	dcfs_user container_user;
	dcfs_remote remote;
	dcfs_run_args run_args;
} up;

static void up_free(up *u)
{
	dcfs_devcontainer_free(&u->d);
	cJSON_Delete(u->merged);
	cJSON_Delete(u->image_config);
	free(u->ref);
	free(u->image_ref);
	free(u->image_digest);
	dcfs_snapshot_free(&u->prebuild);
	free(u->identity);
	dcfs_container_free(&u->c);
	free(u->runc_root);
	free(u->log);
	free(u->rootfs);
	free(u->workspace_mnt);
	free(u->markers);
	dcfs_user_free(&u->container_user);
	dcfs_remote_free(&u->remote);
	dcfs_run_args_free(&u->run_args);
}

static const cJSON *cfg(const up *u, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(u->merged, key);
}

static const char *cfg_string(const up *u, const char *key)
{
	return cJSON_GetStringValue(cfg(u, key));
}

/* The image: in the store already, or a one-line error that says how to put it there. */
static int find_image(up *u)
{
	dcfs_error *e = u->e;
	const char *image = cfg_string(u, "image");
	if (!image)
		return dcfs_error_set(e, ENOTSUP, "%s: only configurations with an \"image\" are supported",
				      u->d.config_file);
	dcfs_ref ref;
	if (dcfs_ref_parse(image, &ref, e) < 0)
		return -EINVAL;
	u->image_ref = dcfs_ref_name(&ref);
	dcfs_ref_free(&ref);
	if (!u->image_ref || !(u->ref = strdup(u->image_ref)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (dcfs_catalog_prepare(u->s->db,
				 "SELECT id, config, digest FROM images WHERE ref = ?1 AND kind = 'image'",
				 &st, e) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, u->ref, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return dcfs_error_set(e, ENOENT, "image '%s' is not in the store", u->ref);
	u->image_id = sqlite3_column_int64(st, 0);
	u->image_config = cJSON_Parse((const char *)sqlite3_column_text(st, 1));
	u->image_digest = strdup((const char *)sqlite3_column_text(st, 2));
	if (!u->image_digest)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return dcfs_prebuild_key_compute(&u->d, u->image_digest, &u->key, e);
}

/* The configuration's image, pulled when the store lacks it, as `devcontainer up` does (before
 * the image's metadata is merged into the configuration). */
static int ensure_image(up *u)
{
	dcfs_error *e = u->e;
	const char *image =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(u->d.config, "image"));
	dcfs_ref ref;
	if (u->o->no_pull || !image || dcfs_ref_parse(image, &ref, e) < 0)
		return image && !u->o->no_pull ? -EINVAL : 0; /* find_image() says what is wrong */
	_cleanup_free_ char *name = dcfs_ref_name(&ref);
	dcfs_ref_free(&ref);
	int64_t found = 0;
	if (!name)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int r = dcfs_catalog_int(u->s->db, "SELECT count(*) FROM images WHERE ref = ?1 AND kind = 'image'",
				 name, &found, e);
	if (r < 0 || found)
		return r < 0 ? r : 0;
	if (u->o->notes)
		fprintf(u->o->notes, "pulling %s: it is not in the store\n", name);
	_cleanup_error_ dcfs_error perr = {0};
	dcfs_pull_result pulled = {0};
	r = dcfs_pull(u->s, image, &(dcfs_pull_opts){0}, &pulled, &perr);
	dcfs_pull_result_free(&pulled);
	if (r < 0)
		return dcfs_error_set(e, ENOENT,
				      "image '%s' is not in the store and pulling it failed: %s (without "
				      "a registry: 'dcfs import DIR|TARBALL %s')",
				      name, perr.msg ? perr.msg : strerror(-r), name);
	return 0;
}

/* runArgs into the merged configuration; messages name the file relative to the folder. */
static int apply_run_args(up *u)
{
	const char *name = u->d.config_file;
	size_t n = strlen(u->d.folder);
	if (!strncmp(name, u->d.folder, n) && name[n] == '/')
		name += n + 1;
	return dcfs_run_args_apply(u->merged, name, &u->run_args, u->e);
}

static int load_config(up *u)
{
	dcfs_error *e = u->e;
	dcfs_devcontainer_opts o = {.folder = u->o->folder, .config_file = u->o->config_file};
	int r = dcfs_devcontainer_read(&o, &u->d, e);
	if (r < 0 || (r = ensure_image(u)) < 0)
		return r;
	_cleanup_json_ cJSON *metadata = NULL;
	if ((r = dcfs_devcontainer_image_metadata(&u->d, u->s, &metadata, e)) < 0)
		return r;
	if ((r = dcfs_devcontainer_merge(u->d.config, metadata, &u->merged, e)) < 0)
		return r;
	if ((r = apply_run_args(u)) < 0)
		return r;
	return find_image(u);
}

static int paths(up *u)
{
	dcfs_error *e = u->e;
	const char *id = u->c.id;
	free(u->log), free(u->rootfs), free(u->workspace_mnt), free(u->markers);
	u->log = dcfs_container_path(u->s, id, "log");
	u->rootfs = dcfs_container_path(u->s, id, "rootfs");
	u->markers = dcfs_container_path(u->s, id, "markers");
	if (!u->log || !u->rootfs || !u->markers)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	/* made again after a reboot emptied /run */
	if (!(u->workspace_mnt = dcfs_container_workspace_mnt(u->s, id, true, e)))
		return -EIO;
	if (!u->runc_root && !(u->runc_root = dcfs_container_runc_root(u->s, e)))
		return -EIO;
	u->runc = (dcfs_runc){.root = u->runc_root, .log = u->log};
	return 0;
}

/* Say which prebuild a new container starts from, or why none matched. */
static int note(up *u, dcfs_up_result *res, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int note(up *u, dcfs_up_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&res->prebuild_note, fmt, ap);
	va_end(ap);
	if (n < 0) {
		res->prebuild_note = NULL;
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	}
	if (u->o->notes)
		fprintf(u->o->notes, "%s\n", res->prebuild_note);
	return 0;
}

/* No prebuild has this key: compare with the configuration's newest one. */
static int explain_miss(up *u, dcfs_up_result *res)
{
	dcfs_snapshot last = {0};
	int r = dcfs_snapshot_find(u->s, NULL, u->d.config_file, &last, u->e);
	if (r == -ENOENT)
		return note(u, res, "prebuild: none for %s (make one with 'dcfs prebuild')",
			    u->d.config_file);
	if (r < 0)
		return r;
	if (strcmp(last.config_hash, u->key.config_hash))
		r = note(u, res, "prebuild: not used: the configuration changed since snapshot %s",
			 last.ref);
	else if (strcmp(last.build_hash, u->key.build_hash))
		r = note(u, res, "prebuild: not used: the Dockerfile changed since snapshot %s",
			 last.ref);
	else
		r = note(u, res, "prebuild: not used: image %s is %.19s now, snapshot %s was made "
			 "from %.19s", u->image_ref, u->key.base_digest, last.ref, last.base_digest);
	dcfs_snapshot_free(&last);
	return r;
}

/* A new container (not a prebuild's) starts from the newest snapshot with its key. */
static int choose_prebuild(up *u, dcfs_up_result *res)
{
	if (u->o->prebuild)
		return 0;
	if (u->o->no_prebuild)
		return 0; /* asked for: nothing to say */
	int r = dcfs_snapshot_find(u->s, u->key.key, NULL, &u->prebuild, u->e);
	if (r == -ENOENT)
		return explain_miss(u, res);
	if (r < 0)
		return r;
	free(u->ref);
	if (!(u->ref = strdup(u->prebuild.ref)))
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	return note(u, res, "prebuild: starting from snapshot %s (key %.12s, taken after %s)",
		    u->prebuild.ref, u->key.key, u->prebuild.stage);
}

/* A container made from a prebuild: onCreate and updateContent ran before the snapshot. */
static int mark_prebuilt(up *u)
{
	static const char *const done[] = {"onCreateCommand", "updateContentCommand"};
	for (size_t i = 0; u->prebuild.image_id && i < ELEMENTSOF(done); i++) {
		_cleanup_free_ char *marker = NULL;
		if (asprintf(&marker, "%s/%s", u->markers, done[i]) < 0)
			return dcfs_error_set(u->e, ENOMEM, "out of memory");
		_cleanup_close_ int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return dcfs_error_set(u->e, errno, "cannot create '%s': %m", marker);
	}
	return 0;
}

/* Find the container, or make one; *running says whether runc runs it already. */
static int ensure_container(up *u, dcfs_up_result *res, bool *running)
{
	dcfs_error *e = u->e;
	*running = false;
	int r = dcfs_container_find(u->s, u->identity, &u->c, e);
	if (r == 0 && (u->o->remove_existing || u->o->prebuild)) {
		if ((r = paths(u)) < 0 || (r = dcfs_container_stop(u->s, &u->c, 10000, e)) < 0 ||
		    (r = dcfs_container_delete(u->s, u->c.id, e)) < 0)
			return r;
		dcfs_container_free(&u->c);
		r = -ENOENT;
	}
	bool created = u->created = r == -ENOENT;
	if (created) {
		if ((r = choose_prebuild(u, res)) < 0)
			return r;
		int64_t image = u->prebuild.image_id ? u->prebuild.image_id : u->image_id;
		r = dcfs_container_create(u->s, u->identity, u->d.config_file, image, &u->c, e);
	} else if (r == 0) {
		/* it keeps the root it was made with: its image or its prebuild snapshot */
		if (!u->c.image)
			return dcfs_error_set(e, ENOENT,
					      "the image of container '%s' is gone (recreate it with "
					      "'dcfs rebuild')", u->c.name);
		free(u->ref);
		if (!(u->ref = strdup(u->c.image)))
			return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	if (r < 0 || (r = paths(u)) < 0)
		return r;
	if (created && ((r = mark_prebuilt(u)) < 0 ||
			(r = dcfs_container_save_key(u->s, u->c.id, &u->key, e)) < 0))
		return r;
	if (u->run_args.name && (r = dcfs_container_rename(u->s, &u->c, u->run_args.name, e)) < 0)
		return r;
	if (created)
		return 0; /* nothing runs it yet */
	_cleanup_free_ char *state = NULL;
	dcfs_runc_state(&u->runc, u->c.id, &state);
	if (state && !strcmp(state, "paused")) {
		/* a snapshot that was killed while it had the container frozen */
		if ((r = dcfs_runc_freeze(&u->runc, u->c.id, false, e)) < 0)
			return r;
		free(state);
		state = strdup("running");
	}
	*running = state && !strcmp(state, "running") && dcfs_container_is_mounted(u->rootfs) &&
		   dcfs_container_is_mounted(u->workspace_mnt);
	return 0;
}

/* A mount being made by this binary: `dcfs --store S mount ARGS...`, which exits once the
 * mount is ready (its daemon detached). */
typedef struct mounting {
	const char *what;
	pid_t pid; /* 0: nothing started */
	off_t offset; /* of its output in the container's log */
} mounting;

static int mount_start(up *u, const char *what, char *const *args, mounting *m)
{
	dcfs_error *e = u->e;
	m->what = what;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return dcfs_error_set(e, errno, "cannot find the dcfs binary: %m");
	exe[n] = 0;
	_cleanup_free_ char *store = realpath(u->s->root, NULL);
	if (!store)
		return dcfs_error_set(e, errno, "store '%s': %m", u->s->root);
	char *argv[12] = {exe, "--store", store, "mount"};
	for (size_t i = 0; args[i] && i < 7; i++)
		argv[4 + i] = args[i];
	_cleanup_close_ int log = open(u->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	struct stat st;
	m->offset = log >= 0 && fstat(log, &st) == 0 ? st.st_size : 0;
	int r = dcfs_spawn(argv, log, &m->pid);
	if (r < 0) {
		m->pid = 0;
		return dcfs_error_set(e, -r, "cannot run '%s': %s", exe, strerror(-r));
	}
	return 0;
}

/* Wait for it; `e` (may be NULL: quiet) says why it failed. */
static int mount_finish(up *u, mounting *m, dcfs_error *e)
{
	if (!m->pid)
		return 0;
	int status = dcfs_wait(m->pid);
	m->pid = 0;
	if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	_cleanup_free_ char *tail = dcfs_log_tail(u->log, m->offset);
	return e ? dcfs_error_set(e, EIO, "cannot mount the %s: %s", m->what, tail ? tail : "")
		 : -EIO;
}

/* The root and the workspace, both at once. */
static int mount_all(up *u)
{
	_cleanup_free_ char *upper = dcfs_container_path(u->s, u->c.id, "upper");
	if (!upper)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	mounting root = {0}, ws = {0};
	char *root_args[] = {"--image", u->ref, "--upper", upper, u->rootfs, NULL};
	char *ws_args[] = {"--workspace", u->d.folder, u->workspace_mnt, NULL};
	int r = 0;
	if (!dcfs_container_is_mounted(u->rootfs))
		r = mount_start(u, "container root", root_args, &root);
	if (r >= 0 && !dcfs_container_is_mounted(u->workspace_mnt))
		r = mount_start(u, "workspace", ws_args, &ws);
	/* wait for whatever started; the first failure is the one reported */
	int r1 = mount_finish(u, &root, r < 0 ? NULL : u->e);
	int r2 = mount_finish(u, &ws, r < 0 || r1 < 0 ? NULL : u->e);
	return r < 0 ? r : r1 < 0 ? r1 : r2;
}

/* FOLDER/.devcontainer/config on the host (made for the remote user when missing), and
 * HOME/config in the container's root pointing at it through the workspace folder. */
static int link_config(up *u)
{
	dcfs_error *e = u->e;
	_cleanup_free_ char *host = NULL, *target = NULL, *link = NULL;
	if (asprintf(&host, "%s/.devcontainer/config", u->d.folder) < 0 ||
	    asprintf(&target, "%s/.devcontainer/config", u->remote.workspace_folder) < 0 ||
	    asprintf(&link, "%s%s/config", u->rootfs, u->remote.user.home) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	struct stat st;
	if (stat(host, &st) < 0) {
		/* new: the remote user's, who keeps their configuration there */
		if (dcfs_mkdir_p(host, 0755) < 0)
			return dcfs_error_set(e, errno, "cannot create '%s': %m", host);
		if (chown(host, u->remote.user.uid, u->remote.user.gid) < 0)
			return dcfs_error_set(e, errno, "cannot chown '%s': %m", host);
	}
	if (lstat(link, &st) == 0)
		return 0;
	_cleanup_free_ char *home = NULL;
	if (asprintf(&home, "%s%s", u->rootfs, u->remote.user.home) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (dcfs_mkdir_p(home, 0755) < 0 || symlink(target, link) < 0 ||
	    lchown(link, u->remote.user.uid, u->remote.user.gid) < 0)
		return dcfs_error_set(e, errno, "cannot link '%s': %m", link);
	return 0;
}

/* The caller's ~/.gitconfig and the VS Code machine settings in the remote user's home. */
static int home_files(up *u)
{
	dcfs_error *e = u->e;
	const cJSON *custom = cJSON_GetObjectItemCaseSensitive(u->d.config, "customizations");
	const cJSON *vscode = cJSON_GetObjectItemCaseSensitive(custom, "vscode");
	const cJSON *settings = cJSON_GetObjectItemCaseSensitive(vscode, "settings");
	int r = dcfs_home_gitconfig(u->rootfs, &u->remote.user, e);
	return r ?: dcfs_home_settings(u->rootfs, &u->remote.user, settings, e);
}

static cJSON *container_env(up *u);

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
static int substitute_container_env(up *u)
{
	_cleanup_json_ cJSON *env = container_env(u);
	if (!env)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	dcfs_subst_ctx ctx = {.container_env = env_lookup, .container_env_data = env,
			      .source = u->d.config_file};
	return dcfs_subst_json(&ctx, u->merged, u->e);
}

static int users(up *u)
{
	dcfs_error *e = u->e;
	const cJSON *image = cJSON_GetObjectItemCaseSensitive(u->image_config, "config");
	const char *image_user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(image, "User"));
	const char *cu = cfg_string(u, "containerUser") ?: image_user;
	const char *ru = cfg_string(u, "remoteUser") ?: cu;
	int r = dcfs_user_resolve(u->rootfs, cu, &u->container_user, e);
	if (r < 0 || (r = dcfs_user_resolve(u->rootfs, ru, &u->remote.user, e)) < 0)
		return dcfs_error_wrap(e, "%s", u->d.config_file);
	const char *wf = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(u->d.workspace, "workspaceFolder"));
	u->remote.workspace_folder = strdup(wf ? wf : "/workspace");
	u->remote.env = cJSON_CreateArray();
	const cJSON *it;
	cJSON_ArrayForEach(it, cfg(u, "remoteEnv")) if (cJSON_IsString(it))
		dcfs_env_set(u->remote.env, it->string, it->valuestring);
	if (!u->remote.workspace_folder || !u->remote.env)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

/* updateRemoteUserUID (default true): the remote user takes the uid and gid of the workspace
 * folder's owner, who stands for the developer (dcfs runs as root; a folder of root's changes
 * nothing). The container user follows when it is the same user. */
static int update_uid(up *u)
{
	struct stat st;
	if (cJSON_IsFalse(cfg(u, "updateRemoteUserUID")) || stat(u->d.folder, &st) < 0 ||
	    st.st_uid == 0)
		return 0;
	dcfs_user *ru = &u->remote.user, *cu = &u->container_user;
	int r = dcfs_user_update_uid(u->rootfs, ru, st.st_uid, st.st_gid, u->e);
	if (r < 0)
		return r;
	if (ru->name && cu->name && !strcmp(ru->name, cu->name))
		cu->uid = ru->uid, cu->gid = ru->gid;
	return 0;
}

/* The container's environment: the image's Env, then containerEnv. */
static cJSON *container_env(up *u)
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

/* overrideCommand (default true): the keep-alive; else the image's Entrypoint and Cmd. */
static cJSON *container_args(up *u)
{
	const cJSON *image = cJSON_GetObjectItemCaseSensitive(u->image_config, "config");
	cJSON *args = cJSON_CreateArray();
	if (!cJSON_IsFalse(cfg(u, "overrideCommand"))) {
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

/* securityOpt holds "no-new-privileges" or "no-new-privileges:true" (Docker's spellings). */
static bool no_new_privileges(const cJSON *opts)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, opts)
	{
		const char *o = cJSON_GetStringValue(it);
		if (o && (!strcmp(o, "no-new-privileges") || !strcmp(o, "no-new-privileges:true") ||
			  !strcmp(o, "no-new-privileges=true")))
			return true;
	}
	return false;
}

/* init (or runArgs --init): dcfs-init, installed next to this binary, bound read-only at
 * /.dcfs/init and run as process 1 with the container's command as its arguments. */
static int add_init(up *u, cJSON *args, cJSON *mounts)
{
	dcfs_error *e = u->e;
	if (!cJSON_IsTrue(cfg(u, "init")))
		return 0;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return dcfs_error_set(e, errno, "cannot find the dcfs binary: %m");
	exe[n] = 0;
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

static int write_bundle(up *u)
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
	cJSON *ws = cJSON_CreateObject();
	cJSON_AddStringToObject(ws, "destination", u->remote.workspace_folder);
	cJSON_AddStringToObject(ws, "type", "bind");
	cJSON_AddStringToObject(ws, "source", u->workspace_mnt);
	cJSON *wo = cJSON_AddArrayToObject(ws, "options");
	cJSON_AddItemToArray(wo, cJSON_CreateString("rbind"));
	cJSON_AddItemToArray(wo, cJSON_CreateString("rw"));
	cJSON_AddItemToArray(mounts, ws);
	int r = dcfs_mounts_convert(cfg(u, "mounts"), volumes, mounts, e);
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
		.cap_add = cfg(u, "capAdd"),
		.privileged = cJSON_IsTrue(cfg(u, "privileged")),
		.no_new_privileges = no_new_privileges(cfg(u, "securityOpt")),
	};
	return dcfs_bundle_write(&b, bundle, e);
}

static int start(up *u)
{
	dcfs_error *e = u->e;
	/* a stopped one's leftovers (a new one has none: skip the runc calls) */
	int r = u->created ? 0 : dcfs_container_stop(u->s, &u->c, 10000, e);
	r = r ?: mount_all(u);
	r = r ?: substitute_container_env(u);
	r = r ?: users(u);
	r = r ?: update_uid(u);
	r = r ?: link_config(u);
	r = r ?: home_files(u);
	r = r ?: write_bundle(u);
	r = r ?: dcfs_remote_save(u->s, u->c.id, &u->remote, e);
	_cleanup_free_ char *bundle = dcfs_container_path(u->s, u->c.id, "bundle");
	r = r ?: dcfs_runc_run(&u->runc, u->c.id, bundle, e);
	return r ?: dcfs_container_set_state(u->s, u->c.id, "running", e);
}

/* Run a once-per-container command unless its marker says it ran. */
static int run_once(up *u, const dcfs_lifecycle *l, const char *name, const char *merged_key)
{
	_cleanup_free_ char *marker = NULL;
	if (asprintf(&marker, "%s/%s", u->markers, name) < 0)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	if (access(marker, F_OK) == 0)
		return 0;
	int r = dcfs_lifecycle_run_all(l, name, cfg(u, merged_key), u->e);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	return fd < 0 ? dcfs_error_set(u->e, errno, "cannot create '%s': %m", marker) : 0;
}

/* The commands in the container, in order; postStart runs only when `up` started it. */
static const struct step {
	const char *name, *merged_key;
	bool once, at_start;
} steps[] = {
	{"onCreateCommand", "onCreateCommands", true, false},
	{"updateContentCommand", "updateContentCommands", true, false},
	{"postCreateCommand", "postCreateCommands", true, false},
	{"postStartCommand", "postStartCommands", false, true},
	{"postAttachCommand", "postAttachCommands", false, false},
};

static int run_steps(up *u, const dcfs_lifecycle *l, bool started, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		const struct step *s = &steps[i];
		int r = 0;
		if (s->once)
			r = run_once(u, l, s->name, s->merged_key);
		else if (started || !s->at_start)
			r = dcfs_lifecycle_run_all(l, s->name, cfg(u, s->merged_key), u->e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The steps from `from` on in a detached child writing to the container's log (it keeps the
 * folder's lock until it is done, so the next `up`, `down` or `rm` waits for it). The child
 * leaves the store's catalog alone and ends with _exit. */
static int run_in_background(up *u, const dcfs_lifecycle *l, bool started, size_t from)
{
	int log = open(u->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log < 0)
		return dcfs_error_set(u->e, errno, "cannot open '%s': %m", u->log);
	pid_t pid = fork();
	if (pid != 0) {
		close(log);
		return pid < 0 ? dcfs_error_set(u->e, errno, "cannot fork: %m") : 0;
	}
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	setsid();
	if (null < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		_exit(1);
	int r = run_steps(u, l, started, from, ELEMENTSOF(steps));
	if (r < 0)
		dprintf(2, "dcfs: up: %s\n", u->e->msg ? u->e->msg : strerror(-r));
	_exit(r < 0 ? 1 : 0);
}

/* All steps; with waitFor set, those after it run in the background. The reference CLI's `up`
 * runs them all unless told otherwise (waitFor's default, updateContentCommand, is for
 * editors that attach at once), so an unset waitFor runs them all here too. */
static int lifecycle(up *u, bool started)
{
	dcfs_lifecycle l = {
		.runc = &u->runc,
		.id = u->c.id,
		.user = &u->remote.user,
		.cwd = u->remote.workspace_folder,
		.env = u->remote.env,
	};
	if (u->o->prebuild) /* onCreate and updateContent: what a prebuild snapshot holds */
		return run_steps(u, &l, started, 0, 2);
	const char *wait_for = cfg_string(u, "waitFor");
	size_t n = ELEMENTSOF(steps);
	for (size_t i = 0; wait_for && i < n; i++)
		if (!strcmp(wait_for, steps[i].name)) {
			int r = run_steps(u, &l, started, 0, i + 1);
			return r < 0 || i + 1 == n ? r : run_in_background(u, &l, started, i + 1);
		}
	if (wait_for)
		return dcfs_error_set(u->e, EINVAL, "%s: waitFor: unknown command '%s'",
				      u->d.config_file, wait_for);
	return run_steps(u, &l, started, 0, n);
}

static int result(up *u, bool started, dcfs_up_result *res)
{
	res->started = started;
	res->image_id = u->image_id;
	res->key = u->key;
	res->ports = dcfs_ports_report(cfg(u, "forwardPorts"), cfg(u, "appPort"));
	res->id = strdup(u->c.id);
	res->name = strdup(u->c.name);
	res->user = strdup(u->remote.user.name ? u->remote.user.name : "");
	res->workspace_folder = strdup(u->remote.workspace_folder);
	res->ref = strdup(u->ref);
	res->image_ref = strdup(u->image_ref);
	res->folder = strdup(u->d.folder);
	res->config_file = strdup(u->d.config_file);
	if (u->prebuild.image_id)
		res->prebuild = strdup(u->prebuild.ref);
	if (!res->id || !res->name || !res->user || !res->workspace_folder || !res->ref ||
	    !res->image_ref || !res->folder || !res->config_file ||
	    (u->prebuild.image_id && !res->prebuild))
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	return 0;
}

static int up_run(up *u, dcfs_up_result *res)
{
	dcfs_error *e = u->e;
	int r = load_config(u);
	if (r < 0)
		return r;
	if (u->o->prebuild)
		r = asprintf(&u->identity, "%s/prebuild-%.12s", u->d.folder, u->key.key);
	else
		r = (u->identity = strdup(u->d.folder)) ? 0 : -1;
	if (r < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_close_ int lock = dcfs_container_lock(u->s, u->identity, e);
	if (lock < 0)
		return lock;
	dcfs_lifecycle host = {.cwd = u->d.folder};
	if ((r = dcfs_lifecycle_run(&host, "initializeCommand", cfg(u, "initializeCommand"), e)) < 0)
		return r;
	bool running;
	if ((r = ensure_container(u, res, &running)) < 0)
		return r;
	if (running)
		r = dcfs_remote_load(u->s, u->c.id, &u->remote, e);
	else
		r = start(u);
	if (r < 0 || (r = lifecycle(u, !running)) < 0 ||
	    (r = dcfs_container_measure(u->s, u->c.id, e)) < 0 || (r = dcfs_volumes_sync(u->s, e)) < 0)
		return r;
	return result(u, !running, res);
}

int dcfs_up(dcfs_store *s, const dcfs_up_opts *o, dcfs_up_result *out, dcfs_error *e)
{
	*out = (dcfs_up_result){0};
	up u = {.o = o, .e = e, .s = s};
	int r = up_run(&u, out);
	up_free(&u);
	if (r < 0)
		dcfs_up_result_free(out);
	return r;
}

int dcfs_up_key(dcfs_store *s, const dcfs_up_opts *o, dcfs_prebuild_key *key, char **config_file,
		char **image_ref, dcfs_error *e)
{
	up u = {.o = o, .e = e, .s = s};
	int r = load_config(&u);
	*key = u.key;
	*config_file = TAKE_PTR(u.d.config_file);
	*image_ref = TAKE_PTR(u.image_ref); /* set when the image is missing, too */
	up_free(&u);
	return r;
}

void dcfs_up_result_free(dcfs_up_result *r)
{
	free(r->id), free(r->name), free(r->user), free(r->workspace_folder), free(r->ref);
	free(r->image_ref), free(r->folder), free(r->config_file), free(r->ports);
	free(r->prebuild), free(r->prebuild_note);
	*r = (dcfs_up_result){0};
}
