/* Docker Compose configurations (`dockerComposeFile`, `service`, `runServices`,
 * `shutdownAction`, `overrideCommand`): the compose tool that is present (`docker compose`,
 * `docker-compose` or `podman-compose`) run with the configuration's files in order plus an
 * override file dcfs writes (the keep-alive command, the reference CLI's labels, the workspace
 * mount), and the service's container found through the Engine API by its compose labels.
 * The tool's output is streamed to the report as "[compose] ..." lines; a failure is one line
 * naming the tool, what it was asked and the tool's own last error line. */
#pragma once

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "engine.h"
#include "error.h"
#include "report.h"

typedef struct dcfs_compose {
	char **tool;	     /* argv prefix, NULL-terminated: {"docker", "compose"},
			      * {"docker-compose"} or {"podman-compose"} */
	char *project;	     /* the project name: COMPOSE_PROJECT_NAME, the files' `name:`, or
			      * as the reference CLI makes it (`<folder basename>_devcontainer`,
			      * lower case, [a-z0-9_-] only) */
	cJSON *files;	     /* absolute paths, in order; the override file last once set */
	char *service;	     /* the dev container's service */
	cJSON *run_services; /* the services to start (with `service` among them); NULL: all */
	char *workdir;	     /* the tool runs here: the first file's folder */
	const dcfs_engine *engine; /* its host is the tool's DOCKER_HOST */
} dcfs_compose;

/* From configuration `config` (file `config_file`, absolute, in host folder `folder`): the
 * files (a string or a list, relative to the configuration's folder; each must exist), the
 * service (required), runServices, and the tool for `en`'s kind (podman: podman-compose, else
 * docker-compose or `docker compose` talking to podman's socket; docker: `docker compose`,
 * else docker-compose). A missing tool names the Debian packages that give one. Errors name
 * the configuration file and the property. */
int dcfs_compose_open(const cJSON *config, const char *config_file, const char *folder,
		      const dcfs_engine *en, dcfs_compose *out, dcfs_error *e);
void dcfs_compose_free(dcfs_compose *c);

/* What dcfs adds to the service (written as JSON, which every compose tool reads as YAML). */
typedef struct dcfs_compose_override {
	bool keep_alive;	      /* overrideCommand (default false for compose): the
				       * reference CLI's keep-alive entrypoint */
	const cJSON *labels;	      /* object: devcontainer.local_folder, .config_file, dcfs.* */
	const char *workspace_source; /* bound at workspace_target; NULL: none */
	const char *workspace_target;
	const cJSON *config;	      /* the merged configuration: containerEnv, containerUser,
				       * mounts, capAdd, securityOpt, privileged, init */
} dcfs_compose_override;

/* Write the override for c->service at `path` and append it to c->files. */
int dcfs_compose_write_override(dcfs_compose *c, const dcfs_compose_override *o,
				const char *path, dcfs_error *e);

/* `TOOL -p PROJECT -f FILE... up -d [--build] [SERVICE...]` (run_services, or every service). */
int dcfs_compose_up(const dcfs_compose *c, bool build, const dcfs_report *r, dcfs_error *e);
/* `... stop`: every service of the project stops (shutdownAction "stopCompose"). */
int dcfs_compose_stop(const dcfs_compose *c, const dcfs_report *r, dcfs_error *e);
/* `... down` (full: also `--volumes --rmi local`): the project's containers and network go. */
int dcfs_compose_down(const dcfs_compose *c, bool full, const dcfs_report *r, dcfs_error *e);
/* `... build [--pull --no-cache]` of the services that build. */
int dcfs_compose_build(const dcfs_compose *c, bool full, const dcfs_report *r, dcfs_error *e);

/* The container of `service` in the project, through the engine (labels
 * com.docker.compose.project and com.docker.compose.service; podman-compose's too): its id
 * (malloc'd), or -ENOENT. */
int dcfs_compose_container(const dcfs_compose *c, dcfs_engine *en, const char *service,
			   char **id, dcfs_error *e);

/* Save the compose setup (tool, project, files, service, run_services, workdir) as JSON at
 * `path` so that `down`, `rm` and `rebuild` act on the same project later, and load it back
 * (with `en` as the engine). */
int dcfs_compose_save(const dcfs_compose *c, const char *path, dcfs_error *e);
int dcfs_compose_load(const char *path, const dcfs_engine *en, dcfs_compose *out,
		      dcfs_error *e);
