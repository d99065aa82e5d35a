/* A growing NUL-terminated string, for the JSON reader and the variable substitution. */
#pragma once

#include <stddef.h>

typedef struct dcfs_strbuf {
	char *s; /* NULL until something is put */
	size_t len, cap;
} dcfs_strbuf;

/* Append `n` bytes of `s`; -ENOMEM (the buffer unchanged) when memory runs out. */
int dcfs_strbuf_put(dcfs_strbuf *b, const char *s, size_t n);
