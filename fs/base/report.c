/* Telling the user something through the command line's callbacks (see report.h). */
#include "report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Format the line and hand it to `fn`; nothing when there is no `fn`. Keeps errno. */
static void say(void (*fn)(void *, const char *), void *opaque, const char *fmt, va_list ap)
{
	if (!fn)
		return;
	int saved = errno;
	char *line = NULL;
	if (vasprintf(&line, fmt, ap) >= 0) {
		fn(opaque, line);
		free(line);
	}
	errno = saved;
}

void dcfs_report_note(const dcfs_report *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(r ? r->note : NULL, r ? r->opaque : NULL, fmt, ap);
	va_end(ap);
}

void dcfs_report_progress(const dcfs_report *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(r ? r->progress : NULL, r ? r->opaque : NULL, fmt, ap);
	va_end(ap);
}

void dcfs_report_output(const dcfs_report *r, const void *buf, size_t n)
{
	if (r && r->output && n)
		r->output(r->opaque, buf, n);
}

void dcfs_report_warning(const dcfs_report *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(r ? r->warning : NULL, r ? r->opaque : NULL, fmt, ap);
	va_end(ap);
}
