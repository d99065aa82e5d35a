/* The OCI runtime side of a dev container: users resolved in the container's root, the bundle's
 * config.json, and runc driven as a child process.
 *
 * runc keeps its state under STORE/run/runc (`runc --root`), so that stores do not see each
 * other's containers. Container ids are the catalog's. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "subprocess.h"

typedef struct dcfs_user {
	uint32_t uid, gid;
	char *name; /* NULL when given numerically and absent from /etc/passwd */
	char *home; /* "/" when unknown */
} dcfs_user;

/* Resolve `spec` ("name", "uid", "name:group" or "uid:gid"; NULL or "" means root) through
 * ROOTFS/etc/passwd and ROOTFS/etc/group. An unknown name fails with -ENOENT. */
int dcfs_user_resolve(const char *rootfs, const char *spec, dcfs_user *out, dcfs_error *e);
void dcfs_user_free(dcfs_user *u);

/* What confines a container (oci_bundle_security.c): its capabilities and seccomp filter. */
typedef struct dcfs_confinement {
	cJSON *caps;		/* array of "CAP_..." names: bounding, effective and permitted */
	cJSON *seccomp;		/* linux.seccomp; NULL: no filter */
	bool no_new_privileges; /* securityOpt "no-new-privileges" */
} dcfs_confinement;

/* From the configuration's `capAdd`, `privileged` and `securityOpt`, and runArgs' --cap-drop
 * (`cap_drop`, array of names; NULL: none), as Docker does it: Docker's default capabilities
 * plus capAdd (ALL: every one) less the drops; the built-in default seccomp profile, none for
 * seccomp=unconfined or a privileged container, or the profile file seccomp=PATH names.
 * An unknown capability, an unsupported option or a bad profile fails with a message
 * "WHERE: capAdd: unknown capability 'X'" (or securityOpt: ...). */
int dcfs_confinement_make(const cJSON *config, const cJSON *cap_drop, const char *where,
			  dcfs_confinement *out, dcfs_error *e);
void dcfs_confinement_free(dcfs_confinement *c);

/* What the bundle's config.json is made of. */
typedef struct dcfs_bundle {
	const char *rootfs;   /* absolute */
	const char *hostname; /* NULL: none set */
	const char *hosts;    /* the file bound at /etc/hosts; NULL: the host's /etc/hosts */
	cJSON *args;	      /* array of strings: the container's process */
	cJSON *env;	      /* array of "K=V" */
	const dcfs_user *user;
	const char *cwd;
	cJSON *mounts;	  /* extra OCI mounts (objects), appended after the standard ones */
	const dcfs_confinement *conf;
} dcfs_bundle;

/* Write BUNDLE_DIR/config.json. */
int dcfs_bundle_write(const dcfs_bundle *b, const char *bundle_dir, dcfs_error *e);

/* Set K=V in an env array, replacing an earlier K. */
int dcfs_env_set(cJSON *env, const char *key, const char *value);

/* devcontainer.json `mounts` (strings "type=bind,source=S,target=T[,readonly]" or objects)
 * into OCI mounts appended to `out`. Volumes live in VOLUMES_DIR/<name>/, created as needed.
 * A bind mount's source must be absolute. VOLUMES_DIR NULL: check only (nothing is made). */
int dcfs_mounts_convert(const cJSON *mounts, const char *volumes_dir, cJSON *out, dcfs_error *e);

/* A container that an engine runs (launcher/engine/engine.h): which engine ("podman",
 * "docker"), where it listens ("unix:///..."), and its id there. */
typedef struct dcfs_engine_target {
	const char *kind, *host, *id;
} dcfs_engine_target;

/* Run `cmd` (NULL-terminated) as `user` in `cwd` with the extra env (array of "K=V", may be
 * NULL) in the engine's container, from a child process (as `runc exec` would run), stdin
 * from `in_fd` (-1: none), its output on out_fd and err_fd: the child's exit status is the
 * command's (125 with the engine's one-line error on err_fd when the engine could not be
 * asked). 0 with *pid, or -errno. (engine_exec_spawn.c) */
int dcfs_engine_exec_spawn(const dcfs_engine_target *t, const dcfs_user *user, const char *cwd,
			   const cJSON *env, char *const *cmd, int in_fd, int out_fd, int err_fd,
			   pid_t *pid);

/* runc, with its state in `runc_root`. Its own messages never reach a terminal: each call
 * that can fail gives runc a log of its own, and a failure is one line naming the container
 * and the step (runc_error.h). */
typedef struct dcfs_runc {
	const char *root;
	const char *log;  /* output of `run` and the container goes here (appended) */
	const char *name; /* the container's name in messages; NULL: its id */
	/* `runc exec`'s own log (runc --log PATH --log-format json; runc_error.h); NULL: none */
	const char *exec_log;
	/* not NULL: the container runs on this engine, not on runc, and the lifecycle commands
	 * and userEnvProbe run through dcfs_engine_exec_spawn */
	const dcfs_engine_target *engine;
} dcfs_runc;

/* `runc run -d`: start the container; a failure says runc's error in one line. */
int dcfs_runc_run(const dcfs_runc *rc, const char *id, const char *bundle, dcfs_error *e);
/* The container's status: "running", "stopped", "created", ...; *out NULL when runc does not
 * know it. */
int dcfs_runc_state(const dcfs_runc *rc, const char *id, char **out);
/* The pid (on the host) of the container's process 1; -ESRCH when runc knows none. */
int dcfs_runc_pid(const dcfs_runc *rc, const char *id, pid_t *pid);
/* Stop: SIGTERM, wait up to `timeout_ms`, SIGKILL; then `runc delete`. Quiet when gone. */
int dcfs_runc_stop(const dcfs_runc *rc, const char *id, int timeout_ms, dcfs_error *e);
/* `runc pause` (freeze every process, so that nothing writes) or `runc resume`. */
int dcfs_runc_freeze(const dcfs_runc *rc, const char *id, bool freeze, dcfs_error *e);

/* argv for `runc exec` of `cmd` (NULL-terminated) as `user` in `cwd` with the extra env
 * (array of "K=V", may be NULL); malloc'd vector of malloc'd strings (free with
 * dcfs_argv_free). `tty` adds -t; rc->exec_log, runc's --log. */
char **dcfs_runc_exec_argv(const dcfs_runc *rc, const char *id, const dcfs_user *user,
			   const char *cwd, const cJSON *env, bool tty, char *const *cmd);
void dcfs_argv_free(char **argv);

/* The last non-empty line written to file `log` after `offset`; malloc'd ("" when none). */
char *dcfs_log_tail(const char *log, off_t offset);

/* Child processes: dcfs_spawn_fds, dcfs_spawn, dcfs_wait, dcfs_spawn_wait (fs/base). */
