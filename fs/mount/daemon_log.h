/* The FUSE daemons' one log: the daemon (mount.c), the views (fs/view, fs/workspace) and their
 * threads say what a person should know (a quarantined chunk, a stuck thread, a catalog write
 * that failed) only through dcfs_daemon_log(), never with their own fprintf or syslog.
 *
 * A message is one line, "dcfs: MESSAGE", handed to libfuse's log (fuse_log), which writes it on
 * stderr unless a log function was set with fuse_set_log_func(). A detached daemon's stderr is
 * /dev/null (mount.c), so there the messages go nowhere unless such a function is set. */
#pragma once

#include <fuse_log.h>

/* Log "dcfs: " and the formatted message (no trailing newline: one is added) at `level`
 * (FUSE_LOG_ERR, FUSE_LOG_WARNING, ...). Keeps errno. */
void dcfs_daemon_log(enum fuse_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
