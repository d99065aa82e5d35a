/* The body of an Engine API container create (POST /containers/create) for a dev container:
 * what devcontainer.json says (containerEnv, containerUser, capAdd, securityOpt, privileged,
 * init, mounts, overrideCommand, the workspace mount) and its `runArgs`, passed to the engine
 * as `docker run` would pass them. Pure: nothing is asked of the engine here. */
#pragma once

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "error.h"

typedef struct dcfs_engine_spec {
	const char *image;	    /* the image's reference or id */
	const cJSON *config;	    /* the merged configuration (image metadata merged in) */
	const char *config_name;    /* the configuration file, for messages */
	const cJSON *image_config;  /* the image's config (Entrypoint, Cmd); may be NULL */
	const cJSON *labels;	    /* object of labels for the container (devcontainer.*, dcfs.*) */
	const char *workspace_source; /* host folder bound at workspace_target (dcfs's workspace
				       * view); NULL: none (workspaceMount is a volume: it is in
				       * `mounts_extra`) */
	const char *workspace_target;
	const cJSON *mounts_extra;  /* more devcontainer.json-style mount strings/objects (the
				     * workspaceMount when it is a volume, $HOME/config's); NULL */
	const cJSON *volume_labels; /* object: labels for the named volumes the engine creates for
				     * `mounts` (so that `dcfs du` finds them); NULL: none */
	const char *kind;	    /* the engine ("podman", "docker"; NULL: docker): a seccomp
				     * profile goes to podman as its absolute path (podman's
				     * compatible API opens it), to docker as its JSON */
} dcfs_engine_spec;

/* Make the body. overrideCommand (default true) runs the keep-alive command in place of the
 * image's (as the reference CLI's `/bin/sh -c "echo Container started ..."`, with the image's
 * entrypoint and command kept as its arguments); runArgs flags map onto the create object's
 * fields (HostConfig.NetworkMode, Memory, ShmSize, Devices, Ulimits, PortBindings, ...,
 * Labels, Env, User, WorkingDir, Hostname); a flag the API cannot express is refused by name:
 * -ENOTSUP and "CONFIG_NAME: runArgs: '--flag' ...". *name: the --name runArgs gives (malloc'd)
 * or NULL. */
int dcfs_engine_spec_body(const dcfs_engine_spec *s, cJSON **body, char **name, dcfs_error *e);
