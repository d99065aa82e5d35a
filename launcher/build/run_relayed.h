/* A program run with its output (stdout and stderr in one pipe) relayed to the report line by
 * line as it comes, each line after a prefix ("[build] ", "[feature node] "), and its last
 * lines kept for the one line that says why it failed: a builder's build, a feature's
 * install.sh. */
#pragma once

#include "build_failure.h"
#include "report.h"

/* Run `argv` (found on PATH; stdin /dev/null); its exit code (128 + a signal's number), or
 * -errno when it could not be started. `tail` receives the last lines. */
int dcfs_run_relayed(char *const argv[], const dcfs_report *report, const char *prefix,
		     dcfs_build_tail *tail);
