/* What the parts of `up` (up*.c) share: the state of one `dcfs up`. Not an API. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "compose.h"
#include "container.h"
#include "devcontainer.h"
#include "error.h"
#include "feature.h"
#include "feature_table.h"
#include "lifecycle.h"
#include "prebuild_key.h"
#include "run_args.h"
#include "runtime.h"
#include "snapshot.h"
#include "store.h"
#include "up.h"
#include "workspace_mount.h"

/* The context of one `dcfs up` (or of a prebuild's container): its options, the store, the
 * configuration, the image, the container record and what each step has set up so far, for the
 * steps in up_*.c to share; up_free() releases it. */
typedef struct up_ctx {
	const dcfs_up_opts *o;
	dcfs_error *e;
	dcfs_devcontainer d;
	cJSON *merged;	     /* the configuration merged with the image's metadata */
	cJSON *image_config; /* the image's OCI config */
	char *ref;	     /* what the root is mounted from: the image, or a prebuild snapshot */
	char *image_ref;     /* the configuration's image */
	char *image_digest;
	int64_t image_id;
	/* a Dockerfile configuration's: its build key and the store's image of that build */
	char build_key[65];
	char *build_ref;
	/* with `features`: the image the last feature made over the configuration's image (or
	 * build), which the container is made from (up_features.c) */
	char *features_ref;
	dcfs_prebuild_key key;
	dcfs_snapshot prebuild; /* the snapshot a new container starts from (image_id 0: none) */
	char *identity;		/* the container's key in the catalog: the folder, or a prebuild's */
	char *variant;		/* with the folder, for a --config file not the default (container.h) */
	bool created;		/* made by this `up` */
	dcfs_store *s;
	dcfs_container c;
	char *runc_root, *log, *rootfs, *workspace_mnt, *markers;
	dcfs_runc runc;
	dcfs_user container_user;
	dcfs_remote remote;
	dcfs_run_args run_args;
	dcfs_confinement conf; /* capabilities and seccomp filter */
	/* workspaceMount as computed (the configuration's or the default bind of the folder);
	 * `ws_target`: mounted at its target (the configuration has one), else at workspaceFolder */
	dcfs_workspace_mount ws;
	bool ws_target;
	/* on an engine (up_engine.c): its kind (NULL: runc), the connection, the container there
	 * (u->runc.engine points at it once it runs), the image's inspect as text, and a Compose
	 * configuration's project */
	char *engine_kind;
	dcfs_engine en;
	dcfs_engine_target target;
	char *engine_image_text;
	dcfs_compose compose;
	bool engine_root_direct; /* u->rootfs is the engine's merged root of the container */
} up_ctx;

static inline const cJSON *cfg(const up_ctx *u, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(u->merged, key);
}

static inline const char *cfg_string(const up_ctx *u, const char *key)
{
	return cJSON_GetStringValue(cfg(u, key));
}

/* up.c: u->image_ref and u->ref from the configuration's image (or build) `image`; NULL: the
 * one-line error that it has neither. */
int up_image_name(up_ctx *u, const char *image);

/* up_build.c: a Dockerfile configuration's image, found by build key or built: 1 with
 * u->build_ref and u->build_key set, 0 for a configuration that builds nothing. */
int up_ensure_build(up_ctx *u);

/* up_prebuild.c: the prebuild a new container starts from (or why none), its markers and
 * workspace changes (brought into the folder); the folder a prebuild's workspace view serves. */
int up_choose_prebuild(up_ctx *u, dcfs_up_result *res);
int up_mark_prebuilt(up_ctx *u, dcfs_up_result *res);
int up_workspace_source(up_ctx *u, char **source);

/* up_mount.c: the root and the workspace views, by running this binary; that binary's path
 * (PATH_MAX bytes), which also finds dcfs-init beside it. */
int up_mount_all(up_ctx *u);
/* The image `ref` mounted at `rootfs` as a container root over `upper` and `work`, its
 * mount's output in `log`: what a feature's install runs on. */
int up_mount_root_at(up_ctx *u, const char *ref, const char *upper, const char *work,
		     const char *rootfs, const char *log);
int up_self_exe(char *out, dcfs_error *e);
/* Also up_mount.c: workspaceMount read and checked (before anything is made); is the
 * workspace a volume (no FUSE view)? Where the bundle mounts it. */
int up_workspace_mount(up_ctx *u);
bool up_workspace_is_volume(const up_ctx *u);
const char *up_workspace_destination(const up_ctx *u);

/* up_home.c: the users, updateRemoteUserUID, $HOME/config and the home's files. */
int up_users(up_ctx *u);
int up_update_uid(up_ctx *u);
/* $HOME/config -> the workspace's .devcontainer/config, unless it exists (after postCreateCommand). */
int up_link_config(up_ctx *u);
int up_home_files(up_ctx *u);
/* Remember the configuration a new container is made from, or say (in the notes) that an
 * existing one's configuration changed since: launcher/up/up_config_check.c. */
int up_config_check(up_ctx *u);

/* up_extensions.c: the editor extensions asked for, recorded in a new container's
 * extensions.json (dcfs installs none). */
int up_record_extensions(up_ctx *u);

/* up_bundle.c: `${containerEnv:V}`, and the OCI bundle. */
int up_substitute_container_env(up_ctx *u);
int up_write_bundle(up_ctx *u);

/* up_ports.c: appPort's mappings checked; the relay of a running container started (once). */
int up_check_app_port(up_ctx *u);
int up_forward_ports(up_ctx *u);

/* up_engine.c: `up` on podman or docker. The engine chosen (and connected to; u->engine_kind
 * stays NULL for runc); the image in it (pulled by it when missing) or the build; the image's
 * metadata; the create body checked before anything is made; the container made (or the
 * Compose project up) and started with the workspace view bound in, its users read; running
 * already?; $HOME/config; the engine's size of it. */
bool up_is_compose(const up_ctx *u);
int up_engine_choose(up_ctx *u);
int up_engine_image(up_ctx *u);
int up_engine_metadata(up_ctx *u, cJSON **metadata);
int up_engine_check(up_ctx *u);
int up_engine_start(up_ctx *u);
int up_engine_running(up_ctx *u, bool *running);
int up_engine_link_config(up_ctx *u, const char *target);
int up_engine_measure(up_ctx *u);

/* up_lifecycle.c: the lifecycle commands in the container, by the configuration's waitFor. */
int up_lifecycle(up_ctx *u, bool started);

/* up_features.c: the configuration's `features` installed (or found by key) over its image;
 * u->features_ref names the image the last one made (unchanged without features). */
int up_features(up_ctx *u);

/* feature_install.c: one feature's install.sh run in a container over `base_ref` and its
 * changes kept as image `ref` (with `config` and the row `meta`): *image_id its id. */
typedef struct up_feature_job {
	const dcfs_feature *f;
	size_t index; /* its place in the install order (its files' folder is <id>_<index>) */
	const char *base_ref;
	int64_t base_id;
	const char *ref, *config;
	const cJSON *env; /* install.sh's environment ("K=V"), but for the users' homes */
	const dcfs_feature_layer_meta *meta;
	const char *remote_user, *container_user; /* their homes are read from the root */
	dcfs_layer_writer_stats *stats;		  /* receives the layer writer's figures */
} up_feature_job;
int up_feature_install(up_ctx *u, const up_feature_job *j, int64_t *image_id);
