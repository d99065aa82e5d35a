/* The FUSE daemons' one log (see daemon_log.h). */
#include "daemon_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void dcfs_daemon_log(enum fuse_log_level level, const char *fmt, ...)
{
	int saved = errno;
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	/* one call per line, so that lines of concurrent threads do not interleave */
	fuse_log(level, "dcfs: %s\n", n >= 0 ? msg : fmt);
	free(n >= 0 ? msg : NULL);
	errno = saved;
}
