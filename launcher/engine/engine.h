/* The Docker Engine API, as dockerd and `podman system service` both serve it, spoken over the
 * engine's unix socket with libcurl: containers (create, start, stop, remove, inspect, list by
 * label), exec (the multiplexed stream decoded, or a terminal), images (inspect, pull, remove)
 * and volumes (list by label, remove). This is how dcfs runs a dev container on podman or
 * docker (`--engine`); runc stays the default (launcher/container/runtime.h).
 *
 * Every call that fails says so in one line naming the engine and what it was asked ("podman:
 * create container 'x': no such image ..."), with the engine's own message. */
#pragma once

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "report.h"

typedef struct dcfs_engine {
	char *kind;   /* "podman" or "docker" */
	char *host;   /* as DOCKER_HOST would say it: "unix:///run/podman/podman.sock" */
	char *socket; /* the socket's path */
	void *curl;   /* a CURL handle, reused so that requests share one connection */
} dcfs_engine;

/* Is `kind` an engine name dcfs knows ("runc", "podman" or "docker")? */
bool dcfs_engine_kind_valid(const char *kind);

/* Connect to engine `kind` ("podman" or "docker") at `host` ("unix:///PATH"; NULL: $DOCKER_HOST
 * when set, else podman's /run/podman/podman.sock or docker's /var/run/docker.sock). Only
 * unix:// hosts are taken (another scheme is refused by name). GET /_ping checks that it
 * answers; when it does not, the message names the socket and how to start the engine
 * ("podman system service --time=0 unix://PATH" / "dockerd"). */
int dcfs_engine_open(const char *kind, const char *host, dcfs_engine *out, dcfs_error *e);
void dcfs_engine_close(dcfs_engine *en);

/* The socket path for engine `kind` at `host` (as dcfs_engine_open takes it; `env_host` stands
 * for $DOCKER_HOST, NULL when unset), malloc'd in *socket. Pure: "unix:///PATH" only; "tcp://",
 * "ssh://", "npipe://" and anything else are refused by name (-EINVAL). */
int dcfs_engine_host_socket(const char *kind, const char *host, const char *env_host,
			    char **socket, dcfs_error *e);

/* One request: METHOD PATH (the API path without the version prefix, query string included)
 * with JSON `body` (NULL: none). `reply` (NULL: not wanted) gets the parsed JSON answer (NULL
 * when the answer is empty). A status >= 400 fails: 404 -ENOENT, 409 -EEXIST, 304 is success,
 * others -EIO, with "KIND: WHAT: the engine's message" (WHAT: `what`, such as "start container
 * 'x'"). */
int dcfs_engine_call(dcfs_engine *en, const char *method, const char *path, const cJSON *body,
		     const char *what, cJSON **reply, dcfs_error *e);

/* ---- containers (id: the engine's id or name) ---- */

/* POST /containers/create?name=NAME (NULL: the engine names it) with `body` (the API's create
 * object): the new container's id (malloc'd). A name in use: -EEXIST. */
int dcfs_engine_create(dcfs_engine *en, const char *name, const cJSON *body, char **id,
		       dcfs_error *e);
/* Start it; one that runs already: 0. */
int dcfs_engine_start(dcfs_engine *en, const char *id, dcfs_error *e);
/* Stop it (SIGTERM, SIGKILL after `timeout_s`); one that is stopped or gone: 0. */
int dcfs_engine_stop(dcfs_engine *en, const char *id, int timeout_s, dcfs_error *e);
/* Remove it (force: running or not) with its anonymous volumes; one that is gone: 0. */
int dcfs_engine_remove(dcfs_engine *en, const char *id, bool force, dcfs_error *e);
/* GET /containers/ID/json (size: ?size=true, for SizeRw): -ENOENT when the engine has none. */
int dcfs_engine_inspect(dcfs_engine *en, const char *id, bool size, cJSON **out,
			dcfs_error *e);
/* Its State.Status ("running", "exited", "created", "paused", ...); -ENOENT when gone. */
int dcfs_engine_state(dcfs_engine *en, const char *id, char **state, dcfs_error *e);
/* The containers (in every state) carrying every label of `labels` (NULL-terminated "K=V" or
 * "K" strings): GET /containers/json?all=1&filters=...; *out an array of the API's summaries
 * (Id, Names, State, Labels, ...). */
int dcfs_engine_list(dcfs_engine *en, const char *const *labels, cJSON **out, dcfs_error *e);

/* ---- exec ---- */

typedef struct dcfs_engine_exec_opts {
	const char *user;    /* "uid:gid", "uid" or a name; NULL: the container's user */
	const char *workdir; /* NULL: the container's */
	const cJSON *env;    /* array of "K=V"; NULL: none */
	char *const *cmd;    /* NULL-terminated */
	/* a terminal: in_fd's terminal is put in raw mode for the time of the call and restored,
	 * its size given to the engine (and again on SIGWINCH); everything comes back on out_fd */
	bool tty;
	int in_fd;	     /* relayed to the process's stdin until EOF (then closed for it);
			      * -1: the process gets no stdin */
	int out_fd, err_fd;  /* where its stdout and stderr go (the multiplexed stream decoded) */
} dcfs_engine_exec_opts;

/* Run o->cmd in running container `id` and wait for it: *exit_code is its exit code (126 or
 * 127 as the engine reports a command it cannot run, with the engine's reason on err_fd). */
int dcfs_engine_exec(dcfs_engine *en, const char *id, const dcfs_engine_exec_opts *o,
		     int *exit_code, dcfs_error *e);

/* ---- images ---- */

/* GET /images/REF/json: -ENOENT when the engine lacks it. */
int dcfs_engine_image_inspect(dcfs_engine *en, const char *ref, cJSON **out, dcfs_error *e);
/* POST /images/create?fromImage=REF: the engine pulls it; its progress lines go to `report`
 * (notes, at most one per layer and status); an error in the stream fails with its message. */
int dcfs_engine_image_pull(dcfs_engine *en, const char *ref, const dcfs_report *report,
			   dcfs_error *e);
/* DELETE /images/REF (force); one that is gone: 0. */
int dcfs_engine_image_remove(dcfs_engine *en, const char *ref, dcfs_error *e);

/* ---- volumes ---- */

/* The volumes carrying every label of `labels` (as dcfs_engine_list): an array of the API's
 * volume objects (Name, Labels, Mountpoint, ...). */
int dcfs_engine_volume_list(dcfs_engine *en, const char *const *labels, cJSON **out,
			    dcfs_error *e);
/* DELETE /volumes/NAME; one that is gone: 0; one in use: -EBUSY. */
int dcfs_engine_volume_remove(dcfs_engine *en, const char *name, dcfs_error *e);
