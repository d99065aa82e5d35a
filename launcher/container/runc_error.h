/* runc's own messages, kept off the terminal and said in one dcfs line.
 *
 * Each runc call writes its messages to a log of its own (`runc --log PATH --log-format json`),
 * an anonymous file (memfd) that this process holds. runc 1.1 also prints a fatal error on its
 * stderr after it wrote it to that log; where its stderr is shown (`dcfs exec`, lifecycle
 * commands) that line is recognised by its text in the log and dropped. What went wrong is then
 * the msg of the log's last error, turned into one line naming the container and the step:
 *
 *   container dcfs-x-1a2b3c4d: runc run: error during container init: mkdir /etc/passwd: ...
 *
 * and, as a shell says them, a missing command (exit 127) and one that cannot be executed
 * (126): "nosuch: command not found in container dcfs-x-1a2b3c4d". */
#pragma once

#include <stddef.h>

#include "error.h"

typedef struct dcfs_runc_log {
	int fd;		/* -1: none */
	char path[64];	/* /proc/<our pid>/fd/<fd>: runc opens it there */
} dcfs_runc_log;

/* An empty log; 0 or -errno. */
int dcfs_runc_log_open(dcfs_runc_log *log);
void dcfs_runc_log_close(dcfs_runc_log *log);

/* The msg of the last entry of level "error" or "fatal" in the log; malloc'd, NULL when none. */
char *dcfs_runc_log_error(const dcfs_runc_log *log);

/* The same from the log's text: JSON lines, or logfmt (`time="..." level=error msg="..."`). */
char *dcfs_runc_log_text_error(const char *text);

/* Where a chunk of runc's stderr ends with runc's own line for an error one of the `n` logs
 * holds ("MSG\n"), the chunk's length without that line; else `len`. */
size_t dcfs_runc_log_trim(const dcfs_runc_log *logs, size_t n, const char *buf, size_t len);

/* Fill `e` with runc's message `msg` of `step` ("run", "exec", "pause"...) for the container
 * `name`, in one line; returns the exit code a shell gives for it: 127 (a command not found,
 * e->code ENOENT), 126 (found but not executable, EACCES), else 1 (EIO). */
int dcfs_runc_error(dcfs_error *e, const char *name, const char *step, const char *msg);
