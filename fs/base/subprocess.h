/* Child processes: start a program (found on PATH) with stdin from /dev/null and its output
 * where the caller says, and wait for it. Used by runc's calls, userEnvProbe, git and the image
 * builders. */
#pragma once

#include <sys/types.h>

/* Start argv with stdout to `out_fd` and stderr to `err_fd` (either -1: inherit): 0 with *pid
 * set, or -errno (a program not found is -ENOENT). */
int dcfs_spawn_fds(char *const *argv, int out_fd, int err_fd, pid_t *pid);
/* dcfs_spawn_fds with stdout and stderr both to `out_fd`. */
int dcfs_spawn(char *const *argv, int out_fd, pid_t *pid);
/* Wait for `pid`: its status as waitpid gives it, or -errno. */
int dcfs_wait(pid_t pid);
/* Wait for `pid`: its exit code, 128 + the signal's number when a signal ended it, or -errno. */
int dcfs_wait_code(pid_t pid);
/* dcfs_spawn and dcfs_wait. */
int dcfs_spawn_wait(char *const *argv, int out_fd);
