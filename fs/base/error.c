/* Error messages that travel up the stack (see error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

int dcfs_error_set(dcfs_error *e, int code, const char *fmt, ...)
{
	if (code < 0)
		code = -code;
	if (code == 0)
		code = EIO;
	if (!e)
		return -code;
	free(e->msg);
	va_list ap;
	va_start(ap, fmt);
	e->msg = vformat(fmt, ap);
	va_end(ap);
	e->code = code;
	return -code;
}

int dcfs_error_wrap(dcfs_error *e, const char *fmt, ...)
{
	if (!e)
		return -EIO;
	if (e->code == 0)
		e->code = EIO;
	va_list ap;
	va_start(ap, fmt);
	char *prefix = vformat(fmt, ap);
	va_end(ap);
	char *joined = NULL;
	if (prefix && asprintf(&joined, "%s: %s", prefix, e->msg ? e->msg : strerror(e->code)) >= 0) {
		free(e->msg);
		e->msg = joined;
	}
	free(prefix);
	return -e->code;
}

void dcfs_error_clear(dcfs_error *e)
{
	if (!e)
		return;
	free(e->msg);
	e->msg = NULL;
	e->code = 0;
}
