/* Errors that travel up the stack: a negative errno plus a message naming the object.
 *
 * Library code never prints. A failing function fills a dcfs_error (when the caller passed one)
 * and returns -errno; callers may prefix context with dcfs_error_wrap(); the command line prints
 * the message once, at the edge. */
#pragma once

#include <errno.h>

typedef struct dcfs_error {
	int code;  /* positive errno, 0 when unset */
	char *msg; /* malloc'd, NULL when unset */
} dcfs_error;

/* Set the error (replacing any earlier one) and return -code. `code` may be given either sign. */
int dcfs_error_set(dcfs_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the existing message with "<prefix>: " and return -code (-EIO when `e` is NULL:
 * callers that may pass NULL keep their own return value). */
int dcfs_error_wrap(dcfs_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Release the message and reset. */
void dcfs_error_clear(dcfs_error *e);

#define _cleanup_error_ __attribute__((cleanup(dcfs_error_clear)))
