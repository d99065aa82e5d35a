/* `dcfs exec`'s `runc exec`: run as a child rather than in our place, so that runc's own error
 * reaches the user as one dcfs line (runc_error.h) and not in runc's format. */
#pragma once

#include "error.h"
#include "runc_error.h"

/* Run `argv` (a `runc exec` command line whose --log is log->path) and wait for it. Its stdin
 * and stdout are ours. Its stderr, which also carries the command's stderr when there is no
 * terminal (runc copies the command's output through pipes of its own either way), comes
 * through a pipe and goes on to ours, less runc's own error line. Signals sent to us with kill
 * (SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2) are passed on to runc, which passes them
 * to the command; those the terminal sends reach runc itself, and are not sent twice.
 * Returns runc's exit status as waitpid gives it, or -errno with `e` filled. */
int dcfs_runc_exec_relay(char *const *argv, const dcfs_runc_log *log, dcfs_error *e);
