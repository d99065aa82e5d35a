/* Variable substitution in devcontainer.json: `${localEnv:V}`, `${localWorkspaceFolder}` and the
 * rest, applied to every string of a configuration the way the reference CLI does it. */
#pragma once

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"

/* Look a name up; return NULL when it is not set. */
typedef const char *(*dcfs_subst_lookup)(const char *name, void *data);

typedef struct dcfs_subst_ctx {
	/* `${localEnv:V[:DEFAULT]}` and `${env:...}`: NULL means getenv(). */
	dcfs_subst_lookup local_env;
	void *local_env_data;
	/* `${localWorkspaceFolder}`, `${localWorkspaceFolderBasename}`; NULL leaves them as-is. */
	const char *local_workspace_folder;
	/* `${containerWorkspaceFolder}`, `${containerWorkspaceFolderBasename}`; NULL leaves them.
	 * It is itself substituted first (it may come from the configuration's workspaceFolder). */
	const char *container_workspace_folder;
	/* `${devcontainerId}`; NULL leaves it (the reference CLI fills it in once a container
	 * exists). */
	const char *devcontainer_id;
	/* `${containerEnv:V[:DEFAULT]}`; NULL leaves it (there is no container yet). */
	dcfs_subst_lookup container_env;
	void *container_env_data;
	/* Named in errors, e.g. "devcontainer.json". */
	const char *source;
	/* When set, the number of characters the scan for `${...}` looked at is added here: the
	 * scan is linear, so a test can check that by counting. */
	size_t *scanned;
} dcfs_subst_ctx;

/* Substitute in one string, as the reference CLI does: every `${...}` (up to the first '}' on
 * the same line) is split at ':' into a variable and arguments. An unknown variable stays as
 * written. `${localEnv:V:DEFAULT}` gives DEFAULT when V is unset (only up to the next ':', as
 * the reference does), else "". `${localEnv}` without a name is an error. *out is malloc'd. */
int dcfs_subst_string(const dcfs_subst_ctx *ctx, const char *in, char **out, dcfs_error *e);

/* Substitute in every string value of `json` (not in keys), in place. */
int dcfs_subst_json(const dcfs_subst_ctx *ctx, cJSON *json, dcfs_error *e);

/* The `${devcontainerId}` of a folder and config file, as the reference CLI computes it from the
 * labels it puts on the container: SHA-256 of the JSON object
 * {"devcontainer.config_file": CONFIG, "devcontainer.local_folder": FOLDER} (keys sorted, no
 * spaces), written in base 32 (digits 0-9a-v) and padded with '0' to 52 characters. */
int dcfs_devcontainer_id(const char *local_folder, const char *config_file, char out[53],
			 dcfs_error *e);
