/* What `dcfs exec` and userEnvProbe run: the remote user's login shell from the container's
 * /etc/passwd, the container's PATH, and whether a command name can be found on that PATH
 * before runc is asked to run it (so a typo is "command not found", exit 127, rather than
 * runc's log line). Paths are resolved inside the container's root (openat2 RESOLVE_IN_ROOT). */
#pragma once

#include <cjson/cJSON.h>
#include <stdint.h>

/* The login shell of `uid` in ROOTFS/etc/passwd when it exists in the root, else "/bin/sh";
 * NULL when out of memory. */
char *dcfs_login_shell(const char *rootfs, uint32_t uid);

/* The PATH of the container's environment (the bundle's process.env, config.json at
 * `bundle_config`); malloc'd, NULL when it has none or cannot be read. */
char *dcfs_bundle_path_env(const char *bundle_config);

/* Whether `name` (no '/') is an executable file in a folder of the container's PATH (the last
 * "PATH=" of `remote_env`, else of the bundle's process.env, else the default): 1 yes, 0
 * certainly not, -errno when that cannot be told (a folder of PATH inside a mount that the
 * bundle makes, such as the workspace, is not in the root as the host sees it). */
int dcfs_exec_lookup(const char *rootfs, const char *bundle_config, const cJSON *remote_env,
		     const char *name);
