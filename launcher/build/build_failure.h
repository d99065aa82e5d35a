/* A builder's last output lines, and the one line that says why its build failed: the failing
 * instruction and its exit code when a RUN failed (podman's and buildah's `building at STEP`,
 * Docker's legacy `The command '...' returned a non-zero code`, BuildKit's `process "..." did
 * not complete successfully`), else the builder's own last error line. Pure: no I/O. */
#pragma once

#include <stddef.h>

#define DCFS_BUILD_TAIL_LINES 20
#define DCFS_BUILD_LINE_MAX 1024

/* The last DCFS_BUILD_TAIL_LINES lines, each cut at DCFS_BUILD_LINE_MAX - 1 bytes. */
typedef struct dcfs_build_tail {
	char lines[DCFS_BUILD_TAIL_LINES][DCFS_BUILD_LINE_MAX];
	size_t n;    /* lines held */
	size_t next; /* the slot the next line goes to */
} dcfs_build_tail;

/* Keep one line (without its newline; a trailing '\r' and ANSI escape sequences are dropped,
 * an empty line is kept). */
void dcfs_build_tail_add(dcfs_build_tail *t, const char *line, size_t len);
/* Line `i` of those held, oldest first (i < t->n). */
const char *dcfs_build_tail_line(const dcfs_build_tail *t, size_t i);

/* Why a build that exited with `code` failed, from its last lines: "'RUN exit 3' failed with
 * exit code 3", "'COPY x /': <the builder's reason>", "<the builder's last error line>", or
 * "exited with code N" when the output says nothing. malloc'd; NULL when out of memory. */
char *dcfs_build_failure(const dcfs_build_tail *t, int code);
