/* devcontainer.json `runArgs`: the common `docker run` flags, mapped onto the configuration
 * properties that mean the same (`-e` -> containerEnv, `-v`/`--mount` -> mounts, `--cap-add`
 * -> capAdd, `--security-opt` -> securityOpt, `--privileged`, `-u` -> containerUser, `--init`
 * -> init) and the few that have no property (name, hostname, workdir, extra hosts, dropped
 * capabilities). */
#pragma once

#include <cjson/cJSON.h>

#include "error.h"

typedef struct dcfs_run_args {
	char *name;	    /* --name; NULL: not given */
	char *hostname;	    /* --hostname */
	char *workdir;	    /* -w/--workdir */
	cJSON *add_hosts;   /* --add-host, as /etc/hosts lines "IP\tNAME"; NULL: none */
	cJSON *cap_drop;    /* --cap-drop, names as given (checked); NULL: none */
} dcfs_run_args;

/* Apply `config`'s "runArgs" (array of strings; missing: nothing) to `config` itself and to
 * `out`. Flags take their value as the next argument or after '='; a flag not listed above, a
 * network other than the host's or a bad value fails with -ENOTSUP or -EINVAL and a message
 * "runArgs: ... in CONFIG_NAME". */
int dcfs_run_args_apply(cJSON *config, const char *config_name, dcfs_run_args *out,
			dcfs_error *e);

void dcfs_run_args_free(dcfs_run_args *a);
