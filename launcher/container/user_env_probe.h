/* userEnvProbe: the remote user's environment as their shell's startup files make it, probed as
 * the reference CLI does (probeUserEnv/runUserEnvProbe in @devcontainers/cli). The user's login
 * shell runs in the container with the mode's flags -- loginInteractiveShell (the default) -lic,
 * loginShell -lc, interactiveShell -ic, none: no probe -- and the command
 * `echo -n M; cat /proc/self/environ; echo -n M` (M a random marker; `printenv` when that prints
 * nothing); what lies between the markers is the environment. PWD is dropped, and the
 * container's PATH entries that the startup files dropped are put back (the reference's merge).
 * The lifecycle commands and `dcfs exec` start from that environment, with remoteEnv over it.
 *
 * user_env_parse.c holds the pure parts (modes, parsing, PATH merge); user_env_probe.c runs the
 * shell through `runc exec` with a time limit. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "runtime.h"

#define DCFS_USER_ENV_PROBE_DEFAULT "loginInteractiveShell"
#define DCFS_USER_ENV_PROBE_TIMEOUT_MS 10000

/* The shell's flags for a userEnvProbe value (NULL: the default): "-lic", "-lc" or "-ic"; NULL
 * for "none" and for a value that is none of the four. */
const char *dcfs_user_env_probe_flags(const char *mode);

/* Whether `mode` is one of the four values. */
bool dcfs_user_env_probe_known(const char *mode);

/* The environment in the output `out` (`len` bytes): the text between the first and the last
 * `marker`, entries separated by `sep` ('\0' for /proc/self/environ, '\n' for printenv), each
 * "NAME=value" (what a banner printed before the first name is dropped: a name holds no
 * newline); entries without '=' and PWD are left out. A new array of "NAME=value" strings
 * (names unique, the last one wins); NULL when the markers or every entry are missing, or out
 * of memory. */
cJSON *dcfs_user_env_parse(const char *out, size_t len, const char *marker, char sep);

/* The probed PATH with the entries of the container's PATH that it lacks put back, each after
 * the entry it followed in the container's PATH (at the front when none): the reference's
 * merge. Folders named sbin are put back only for root. malloc'd; NULL when out of memory. */
char *dcfs_user_env_merge_path(const char *probed, const char *container, bool root);

/* `base` (the probed environment, "NAME=value" strings; may be NULL) with every entry of `over`
 * (remoteEnv) set over it, in a new array; NULL when out of memory. */
cJSON *dcfs_user_env_apply(const cJSON *base, const cJSON *over);

/* One probe: run `shell flags CMD` as `user` in `cwd` in container `id` (runc exec, its process
 * id in `pid_file`, its standard error to `err_fd`) and wait at most `timeout_ms`. */
typedef struct dcfs_user_env_probe {
	const dcfs_runc *runc;
	const char *id;
	const dcfs_user *user;
	const char *cwd;
	const char *shell;
	const char *flags;
	const char *container_path; /* the container's PATH, for the merge; may be NULL */
	const char *pid_file;
	int err_fd;
	int timeout_ms;
} dcfs_user_env_probe;

/* 0 with *env the probed environment (PATH merged); -ETIMEDOUT when the shell did not finish in
 * time (it is killed, with what it started); -ENODATA when it printed no environment (neither
 * with cat nor with printenv); other -errno with `e` filled when it could not run. */
int dcfs_user_env_probe_run(const dcfs_user_env_probe *p, cJSON **env, dcfs_error *e);
