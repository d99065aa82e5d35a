/* Lifecycle commands of devcontainer.json: initializeCommand on the host, the others in the
 * container through `runc exec`. A command is a string (run by /bin/sh -c), an array (run as
 * is) or an object whose entries (strings or arrays) run in parallel and must all succeed.
 * Each command is labelled ("Running the postCreateCommand..."); its output goes to the report
 * (and the container's log); a failure's message ends with the output's last lines, or with
 * runc's own error in one line when runc could not run it (a command not found: exit code 127,
 * one that cannot be executed: 126; see runc_error.h), which is kept out of the output. */
#pragma once

#include <cjson/cJSON.h>
#include <stdio.h>

#include "error.h"
#include "report.h"
#include "runtime.h"

typedef struct dcfs_lifecycle {
	const dcfs_runc *runc;
	const char *id;         /* container id; NULL: run on the host */
	const dcfs_user *user;  /* in the container */
	const char *cwd;        /* in the container, or on the host */
	const cJSON *env;       /* extra "K=V" for container commands (the probed user env with
				 * remoteEnv over it); may be NULL */
	FILE *log;              /* also gets each command's label and output; may be NULL */
	const dcfs_report *report; /* each command's label (progress) and output; may be NULL */
} dcfs_lifecycle;

/* Run one command value (string, array or object) named `name` for messages
 * ("postCreateCommand"). NULL and empty values succeed at once. */
int dcfs_lifecycle_run(const dcfs_lifecycle *l, const char *name, const cJSON *command,
		       dcfs_error *e);

/* Run each command of an array (the merged configuration's "postCreateCommands") in order. */
int dcfs_lifecycle_run_all(const dcfs_lifecycle *l, const char *name, const cJSON *commands,
			   dcfs_error *e);
