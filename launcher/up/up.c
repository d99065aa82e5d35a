/* Bringing a folder's dev container up (see up.h): create and start it, or find it running.
 *
 * An image the store lacks is pulled; a Dockerfile configuration's image is found by its build
 * key or built (up_build.c). The steps:
 * initializeCommand on the host; the container's record and folders (from the newest matching
 * prebuild when there is one: up_prebuild.c); its root (an overlay over the image or snapshot)
 * and its workspace view, both by running this binary (up_mount.c); the users,
 * updateRemoteUserUID, $HOME/config and the home's files (up_home.c); the OCI bundle
 * (up_bundle.c); runc run; then the lifecycle commands (up_lifecycle.c). Running already: only
 * postAttach. Stopped: started again on the same upper directory. Then the appPort relay
 * (up_ports.c), unless it runs. After: which forwardPorts/appPort listen on the host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "container_setup.h"
#include "container_snapshot.h"
#include "image_table.h"
#include "jsonc.h"
#include "pull.h"
#include "ref.h"
#include "up_internal.h"
#include "volumes.h"

static void up_free(up_ctx *u)
{
	dcfs_devcontainer_free(&u->d);
	cJSON_Delete(u->merged);
	cJSON_Delete(u->image_config);
	free(u->ref);
	free(u->image_ref);
	free(u->image_digest);
	free(u->build_ref);
	free(u->features_ref);
	dcfs_snapshot_free(&u->prebuild);
	free(u->identity);
	free(u->variant);
	dcfs_container_free(&u->c);
	free(u->runc_root);
	free(u->log);
	free(u->rootfs);
	free(u->workspace_mnt);
	free(u->markers);
	dcfs_user_free(&u->container_user);
	dcfs_remote_free(&u->remote);
	dcfs_run_args_free(&u->run_args);
	dcfs_confinement_free(&u->conf);
	dcfs_workspace_mount_free(&u->ws);
	free(u->engine_kind);
	dcfs_engine_close(&u->en);
	free(u->engine_image_text);
	dcfs_compose_free(&u->compose);
}

int up_image_name(up_ctx *u, const char *image)
{
	dcfs_error *e = u->e;
	if (!image)
		return dcfs_error_set(e, ENOTSUP, "%s: neither \"image\" nor a Dockerfile: nothing to "
				      "run", u->d.config_file);
	dcfs_ref ref;
	if (dcfs_ref_parse(image, &ref, e) < 0)
		return -EINVAL;
	free(u->image_ref), free(u->ref);
	u->image_ref = dcfs_ref_name(&ref);
	u->ref = NULL;
	dcfs_ref_free(&ref);
	if (!u->image_ref || !(u->ref = strdup(u->image_ref)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

/* The image: in the store already, or a one-line error that says how to put it there. */
static int find_image(up_ctx *u)
{
	dcfs_error *e = u->e;
	if (u->engine_kind) /* the engine's image (up_engine_image), or a project's services */
		return dcfs_prebuild_key_compute(&u->d, u->image_digest ?: "compose",
						 u->build_ref ? u->build_key : NULL, &u->key, e);
	int r = up_image_name(u, u->build_ref ? u->build_ref : cfg_string(u, "image"));
	if (r < 0)
		return r;
	if (u->features_ref) { /* the container is made from what the features made */
		free(u->ref);
		if (!(u->ref = strdup(u->features_ref)))
			return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	_cleanup_(dcfs_image_row_free) dcfs_image_row im = {0};
	r = dcfs_image_lookup(u->s, u->ref, &im, e);
	if (r == -ENOENT || (r >= 0 && strcmp(im.kind, "image")))
		return dcfs_error_set(e, ENOENT, "image '%s' is not in the store", u->ref);
	if (r < 0)
		return r;
	u->image_id = im.id;
	u->image_config = cJSON_Parse(im.config);
	u->image_digest = TAKE_PTR(im.digest);
	if (!u->image_digest)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return dcfs_prebuild_key_compute(&u->d, u->image_digest, u->build_ref ? u->build_key : NULL,
					 &u->key, e);
}

/* The configuration's image, pulled when the store lacks it, as `devcontainer up` does (before
 * the image's metadata is merged into the configuration). */
static int ensure_image(up_ctx *u)
{
	dcfs_error *e = u->e;
	int r = up_ensure_build(u);
	if (r != 0)
		return r < 0 ? r : 0;
	const char *image =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(u->d.config, "image"));
	dcfs_ref ref;
	if (u->o->no_pull || !image || dcfs_ref_parse(image, &ref, e) < 0)
		return image && !u->o->no_pull ? -EINVAL : 0; /* find_image() says what is wrong */
	_cleanup_free_ char *name = dcfs_ref_name(&ref);
	dcfs_ref_free(&ref);
	if (!name)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_(dcfs_image_row_free) dcfs_image_row im = {0};
	r = dcfs_image_lookup(u->s, name, &im, e);
	if (r >= 0 && !strcmp(im.kind, "image"))
		return 0; /* stored */
	if (r < 0 && r != -ENOENT)
		return r;
	dcfs_report_note(u->o->report, "pulling %s: it is not in the store", name);
	_cleanup_error_ dcfs_error perr = {0};
	dcfs_pull_result pulled = {0};
	dcfs_pull_opts po = {.progress = u->o->pull_progress, .opaque = u->o->pull_opaque};
	r = dcfs_pull(u->s, image, &po, &pulled, &perr);
	if (r >= 0)
		dcfs_report_note(u->o->report,
				 "pulled %s (%.19s): %zu layers, %zu already stored, %.1f MB "
				 "downloaded", name, pulled.manifest, pulled.layers, pulled.cached,
				 (double)pulled.bytes / 1e6);
	dcfs_pull_result_free(&pulled);
	if (r < 0)
		return dcfs_error_set(e, ENOENT,
				      "image '%s' is not in the store and pulling it failed: %s (without "
				      "a registry: 'dcfs import DIR|TARBALL %s')",
				      name, perr.msg ? perr.msg : strerror(-r), name);
	return 0;
}

/* runArgs into the merged configuration, then the capabilities and seccomp filter, checked
 * before anything starts; messages name the file relative to the folder. */
static int apply_run_args(up_ctx *u)
{
	const char *name = u->d.config_file;
	size_t n = strlen(u->d.folder);
	if (!strncmp(name, u->d.folder, n) && name[n] == '/')
		name += n + 1;
	int r = dcfs_run_args_apply(u->merged, name, &u->run_args, u->e);
	return r ?: dcfs_confinement_make(u->merged, u->run_args.cap_drop, name, &u->conf, u->e);
}

/* The mounts are checked before anything is made: a bad one refuses the configuration. */
static int check_mounts(up_ctx *u)
{
	_cleanup_json_ cJSON *scratch = cJSON_CreateArray();
	if (!scratch)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	int r = dcfs_mounts_convert(cfg(u, "mounts"), NULL, scratch, u->e);
	return r < 0 ? dcfs_error_wrap(u->e, "%s", u->d.config_file) : 0;
}

/* The same on an engine: the image is the engine's; runArgs, mounts and the rest are checked
 * by making the create body (the engine applies them); a Compose project's files are read. */
static int load_for_engine(up_ctx *u)
{
	dcfs_error *e = u->e;
	const cJSON *features = cJSON_GetObjectItemCaseSensitive(u->d.config, "features");
	if (features && features->child) /* their layers are dcfs's own root view's */
		return dcfs_error_set(e, ENOTSUP, "%s: features are installed as dcfs layers, on runc "
				      "only: not on %s yet (remove \"features\" or use --engine runc)",
				      u->d.config_file, u->engine_kind);
	_cleanup_json_ cJSON *metadata = NULL;
	int r = up_engine_image(u);
	r = r ?: up_engine_metadata(u, &metadata);
	r = r ?: dcfs_devcontainer_merge(u->d.config, metadata, &u->merged, e);
	r = r ?: up_workspace_mount(u);
	r = r ?: up_engine_check(u);
	if (r >= 0 && up_is_compose(u))
		r = dcfs_compose_open(u->merged, u->d.config_file, u->d.folder, &u->en, &u->compose,
				      e);
	if (r >= 0 && cfg(u, "appPort"))
		dcfs_report_warning(u->o->report, "appPort: not published on %s (use runArgs "
				    "\"-p\", or the host's network)", u->engine_kind);
	return r ?: find_image(u);
}

static int load_config(up_ctx *u)
{
	dcfs_error *e = u->e;
	dcfs_devcontainer_opts o = {.folder = u->o->folder, .config_file = u->o->config_file,
				    .with_id = true, .container = true};
	int r = dcfs_devcontainer_read(&o, &u->d, e);
	if (r < 0 || (r = up_engine_choose(u)) < 0)
		return r;
	if (u->engine_kind)
		return load_for_engine(u);
	if ((r = ensure_image(u)) < 0 || (r = up_features(u)) < 0)
		return r;
	_cleanup_json_ cJSON *metadata = NULL;
	if ((r = dcfs_devcontainer_image_metadata(&u->d, u->s, u->features_ref ?: u->build_ref,
						  &metadata, e)) < 0)
		return r;
	if ((r = dcfs_devcontainer_merge(u->d.config, metadata, &u->merged, e)) < 0)
		return r;
	if ((r = apply_run_args(u)) < 0 || (r = check_mounts(u)) < 0 ||
	    (r = up_workspace_mount(u)) < 0 || (r = up_check_app_port(u)) < 0)
		return r;
	return find_image(u);
}

static int paths(up_ctx *u)
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
	u->runc = (dcfs_runc){.root = u->runc_root, .log = u->log, .name = u->c.name};
	return 0;
}


/* Does the folder's container run on the engine asked for? */
static bool engine_matches(const up_ctx *u)
{
	const char *had = u->c.engine && strcmp(u->c.engine, "runc") ? u->c.engine : NULL;
	return had ? u->engine_kind && !strcmp(had, u->engine_kind) : !u->engine_kind;
}

/* Find the container, or make one; *running says whether runc (or the engine) runs it
 * already. */
static int ensure_container(up_ctx *u, dcfs_up_result *res, bool *running)
{
	dcfs_error *e = u->e;
	*running = false;
	int r = dcfs_container_find_variant(u->s, u->identity, u->variant, &u->c, e);
	if (r == 0 && (u->o->remove_existing || u->o->prebuild)) {
		if ((r = paths(u)) < 0 || (r = dcfs_container_stop(u->s, &u->c, 10000, e)) < 0 ||
		    (r = dcfs_container_delete(u->s, u->c.id, e)) < 0)
			return r;
		dcfs_container_free(&u->c);
		r = -ENOENT;
	}
	bool created = u->created = r == -ENOENT;
	if (r == 0 && !engine_matches(u))
		return dcfs_error_set(e, EEXIST,
				      "container %s runs on %s, not %s: 'dcfs rm' it first, or "
				      "'dcfs rebuild --engine %s'", u->c.name, u->c.engine ?: "runc",
				      u->engine_kind ?: "runc", u->engine_kind ?: "runc");
	if (created) {
		if (!u->engine_kind && (r = up_choose_prebuild(u, res)) < 0)
			return r;
		int64_t image = u->prebuild.image_id ? u->prebuild.image_id : u->image_id;
		r = dcfs_container_create(u->s, u->identity, u->d.config_file, u->variant != NULL,
					  image, u->engine_kind, u->en.host, &u->c, e);
	} else if (r == 0 && u->engine_kind) {
		/* the engine keeps its image */
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
	if (created && ((r = up_mark_prebuilt(u, res)) < 0 || (r = up_record_extensions(u)) < 0 ||
			(r = dcfs_container_save_key(u->s, u->c.id, &u->key, e)) < 0))
		return r;
	if (u->run_args.name && (r = dcfs_container_rename(u->s, &u->c, u->run_args.name, e)) < 0)
		return r;
	u->runc.name = u->c.name; /* a rename replaced it */
	if (created)
		return 0; /* nothing runs it yet */
	if (u->engine_kind)
		return up_engine_running(u, running);
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
		   (up_workspace_is_volume(u) || dcfs_container_is_mounted(u->workspace_mnt));
	return 0;
}


static int start(up_ctx *u)
{
	dcfs_error *e = u->e;
	/* a stopped one's leftovers (a new one has none: skip the runc calls) */
	int r = u->created ? 0 : dcfs_container_stop(u->s, &u->c, 10000, e);
	if (u->engine_kind)
		return r ?: up_engine_start(u);
	r = r ?: up_mount_all(u);
	r = r ?: up_substitute_container_env(u);
	r = r ?: up_users(u);
	r = r ?: up_update_uid(u);
	r = r ?: up_home_files(u);
	r = r ?: up_write_bundle(u);
	r = r ?: dcfs_remote_save(u->s, u->c.id, &u->remote, e);
	_cleanup_free_ char *bundle = dcfs_container_path(u->s, u->c.id, "bundle");
	r = r ?: dcfs_runc_run(&u->runc, u->c.id, bundle, e);
	return r ?: dcfs_container_set_state(u->s, u->c.id, "running", e);
}


/* A container this `up` made and could not start is taken away again (runc's state, its
 * mounts, its record and folders): `dcfs ls` shows nothing, the next `up` starts clean. The
 * error says so when that fails too. */
static void discard_new(up_ctx *u)
{
	if (!u->created || !u->c.id)
		return;
	_cleanup_error_ dcfs_error why = {0};
	int r = dcfs_container_stop(u->s, &u->c, 10000, &why);
	if (r >= 0)
		r = dcfs_container_delete(u->s, u->c.id, &why);
	_cleanup_free_ char *msg = u->e && u->e->msg ? strdup(u->e->msg) : NULL;
	if (r < 0 && msg)
		dcfs_error_set(u->e, u->e->code, "%s (and removing the new container %s failed: %s)",
			       msg, u->c.name, why.msg ? why.msg : strerror(-r));
}

static int result(up_ctx *u, bool started, dcfs_up_result *res)
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

static int up_run(up_ctx *u, dcfs_up_result *res)
{
	dcfs_error *e = u->e;
	int r = load_config(u);
	if (r < 0)
		return r;
	if (u->o->expect_key && strcmp(u->o->expect_key, u->key.key))
		return dcfs_error_set(e, ESTALE,
				      "%s changed while this prebuild waited (key %.12s, now %.12s): run "
				      "'dcfs prebuild' again",
				      u->d.config_file, u->o->expect_key, u->key.key);
	if (u->o->prebuild)
		r = asprintf(&u->identity, "%s/prebuild-%.12s", u->d.folder, u->key.key);
	else
		r = (u->identity = strdup(u->d.folder)) &&
				    dcfs_container_variant(u->d.folder, u->d.config_file, u->d.given,
							   &u->variant) == 0
			    ? 0
			    : -1;
	if (r < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_close_ int lock = dcfs_container_lock(u->s, u->identity, e);
	if (lock < 0)
		return lock;
	dcfs_lifecycle host = {.cwd = u->d.folder, .report = u->o->report};
	if ((r = dcfs_lifecycle_run(&host, "initializeCommand", cfg(u, "initializeCommand"), e)) < 0)
		return r;
	bool running;
	r = ensure_container(u, res, &running);
	if (r >= 0)
		r = running ? dcfs_remote_load(u->s, u->c.id, &u->remote, e) : start(u);
	if (r >= 0 && !u->o->prebuild)
		r = up_config_check(u);
	if (r >= 0 && !u->o->prebuild && !u->engine_kind)
		r = up_forward_ports(u);
	if (r < 0) {
		discard_new(u);
		return r;
	}
	if ((r = up_lifecycle(u, !running)) < 0)
		return r;
	if (u->engine_kind)
		r = up_engine_measure(u);
	else if ((r = dcfs_container_measure(u->s, u->c.id, e)) >= 0)
		r = dcfs_volumes_sync(u->s, e);
	if (r < 0)
		return r;
	return result(u, !running, res);
}

int dcfs_up(dcfs_store *s, const dcfs_up_opts *o, dcfs_up_result *out, dcfs_error *e)
{
	*out = (dcfs_up_result){0};
	up_ctx u = {.o = o, .e = e, .s = s};
	int r = up_run(&u, out);
	up_free(&u);
	if (r < 0)
		dcfs_up_result_free(out);
	return r;
}

int dcfs_up_key(dcfs_store *s, const dcfs_up_opts *o, dcfs_prebuild_key *key, char **config_file,
		char **image_ref, dcfs_error *e)
{
	up_ctx u = {.o = o, .e = e, .s = s};
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

