/* Container records: the catalog's `containers` rows (one per dev container: its id, name,
 * image, state and host folder; fs/store/container_table.h reads and writes them) and the
 * container's folder in the store:
 *
 *   STORE/containers/<id>/upper, work   the overlay's upper and work directories
 *   STORE/containers/<id>/rootfs        the container root (overlay) mount point
 *   /run/dcfs/<store>/<id>/workspace    the workspace view mount point: outside the store, so
 *                                       that nothing walking the store (an `rm -rf` of it, a
 *                                       backup) reaches the user's folder through the view
 *   STORE/containers/<id>/bundle/       the OCI bundle (config.json)
 *   STORE/containers/<id>/markers/      run-once markers of the lifecycle commands
 *   STORE/containers/<id>/log           the container's and runc's output
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "container_table.h" /* dcfs_container: a row, with its image's ref */
#include "engine.h"
#include "error.h"
#include "runtime.h"
#include "store.h"

/* The container made for host folder `folder` (absolute) with its default configuration: 0
 * with *out filled, or -ENOENT. */
int dcfs_container_find(dcfs_store *s, const char *folder, dcfs_container *out, dcfs_error *e);
/* The same for the variant of configuration file `variant` (absolute; NULL: the default). */
int dcfs_container_find_variant(dcfs_store *s, const char *folder, const char *variant,
				dcfs_container *out, dcfs_error *e);

/* Which configuration of `folder` (absolute) `config_file` (absolute) is: *variant NULL when it
 * is the folder's default (not `given` with --config, or the file the folder's search finds),
 * else a copy of config_file. 0 or -ENOMEM. */
int dcfs_container_variant(const char *folder, const char *config_file, bool given,
			   char **variant);

/* The container of FOLDER (NULL: ".") and --config CONFIG (NULL: none) as given on a command
 * line, resolved as `up` resolves them. Without CONFIG, the folder's only container, whichever
 * configuration it is for; when it has several, -EINVAL and a message listing them. -ENOENT
 * with a message naming the folder (and the file) when there is none. */
int dcfs_container_of(dcfs_store *s, const char *folder, const char *config,
		      dcfs_container *out, dcfs_error *e);

/* Record a new container for `folder` and `config_file` (a `variant` of the folder or its
 * default) with image `image_id` (0: an engine's image) on `engine` (NULL: runc; else
 * "podman" or "docker" at `engine_host`) and make its folders. */
int dcfs_container_create(dcfs_store *s, const char *folder, const char *config_file,
			  bool variant, int64_t image_id, const char *engine,
			  const char *engine_host, dcfs_container *out, dcfs_error *e);

int dcfs_container_set_state(dcfs_store *s, const char *id, const char *state, dcfs_error *e);

/* Delete the record and STORE/containers/<id>/ (and an engine's container from its engine).
 * Refuses (-EBUSY) while the root or the workspace is still mounted there: the workspace is
 * the user's folder on the host. */
int dcfs_container_delete(dcfs_store *s, const char *id, dcfs_error *e);

/* All containers, oldest first. */
int dcfs_container_list(dcfs_store *s, dcfs_container **out, size_t *n, dcfs_error *e);

/* STORE/containers/<id>/<sub> (sub may be ""); malloc'd, NULL when out of memory. */
char *dcfs_container_path(dcfs_store *s, const char *id, const char *sub);

/* The workspace view's mount point, /run/dcfs/<sha256(store)[:16]>/<id>/workspace (under
 * $DCFS_RUN_DIR instead of /run/dcfs when set); created when `create`, its two folders made
 * (or tightened to) 0700: only root reaches the view by its path. malloc'd, NULL with `e`
 * filled on failure. */
char *dcfs_container_workspace_mnt(dcfs_store *s, const char *id, bool create, dcfs_error *e);

/* STORE/run/runc, created when missing: runc's state folder for this store. malloc'd. */
char *dcfs_container_runc_root(dcfs_store *s, dcfs_error *e);

/* Is something (or a dead FUSE daemon's leftover) mounted at `path`? */
bool dcfs_container_is_mounted(const char *path);

/* Stop the container: runc kill TERM (KILL after `timeout_ms`), runc delete (or the engine's
 * stop), unmount its workspace and root, state "stopped". Quiet about what is already stopped
 * or unmounted. */
int dcfs_container_stop(dcfs_store *s, const dcfs_container *c, int timeout_ms, dcfs_error *e);

/* Containers an engine runs (container_engine.c). Does an engine (podman, docker) run it,
 * rather than runc? */
bool dcfs_container_on_engine(const dcfs_container *c);
/* Connect to the engine that runs `c` (at the host recorded with it). */
int dcfs_container_engine_open(const dcfs_container *c, dcfs_engine *en, dcfs_error *e);
/* Stop it in the engine (a Compose one: the project's services when its shutdownAction, saved
 * in STORE/containers/<id>/shutdown-action, is stopCompose or unset; else its own service) and record the engine's SizeRw of it as its upper_bytes. */
int dcfs_container_engine_stop(dcfs_store *s, const dcfs_container *c, int timeout_ms,
			       dcfs_error *e);
int dcfs_container_engine_measure(dcfs_store *s, const dcfs_container *c, dcfs_engine *en,
				  dcfs_error *e);
/* The engine's state of it ("running", "exited", ...; *state NULL when the engine has none). */
int dcfs_container_engine_state(const dcfs_container *c, char **state, dcfs_error *e);
/* Remove it from the engine (a Compose one: `down` of the project); gone already: 0. */
int dcfs_container_engine_remove(dcfs_store *s, const dcfs_container *c, dcfs_error *e);

/* Engines a store used (engine_usage.c): remember one (STORE/engines); what dcfs made in them
 * (labelled dcfs.store=<store>): *out an array of {engine, kind: "container"|"volume", name,
 * size, and a container's id}, *unreachable the one-line messages of engines that did not answer. */
int dcfs_engine_remember(dcfs_store *s, const char *kind, const char *host, dcfs_error *e);
int dcfs_engine_usage(dcfs_store *s, const dcfs_container *list, size_t n, cJSON **out,
		      cJSON **unreachable, dcfs_error *e);

/* How `exec` and the lifecycle commands enter a running container, saved by `up` in
 * STORE/containers/<id>/remote.json: the remote user (resolved), the workspace folder in the
 * container and their environment as "K=V" strings: remoteEnv over what userEnvProbe found
 * (launcher/container/user_env_probe.h) when `up` started the container. */
typedef struct dcfs_remote {
	dcfs_user user;
	char *workspace_folder;
	cJSON *env;
} dcfs_remote;

int dcfs_remote_save(dcfs_store *s, const char *id, const dcfs_remote *r, dcfs_error *e);
/* -ENOENT when the container was never started. */
int dcfs_remote_load(dcfs_store *s, const char *id, dcfs_remote *out, dcfs_error *e);
void dcfs_remote_free(dcfs_remote *r);

/* Serialize `up`, `down` and `rm` of one folder's containers (all its configurations': one
 * waits for another): an exclusive flock on STORE/run/locks/<sha256(folder)[:16]>, held while
 * the returned descriptor is open. */
int dcfs_container_lock(dcfs_store *s, const char *folder, dcfs_error *e);

/* Sum the sizes of the files in the container's upper directory into its upper_bytes (which
 * `dcfs du` adds up as the containers' size). */
int dcfs_container_measure(dcfs_store *s, const char *id, dcfs_error *e);

/* The bytes of the regular files under `dir` (0 when it does not exist). */
int dcfs_tree_bytes(const char *dir, uint64_t *bytes, dcfs_error *e);
