/* Extended attributes of an entry, encoded as one byte string for the catalog:
 * a sequence of records `u16 name length, name, u32 value length, value` (little endian),
 * sorted by name, so that equal attribute sets encode equally. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dcfs_xattrs {
	unsigned char *buf;
	size_t len, cap;
} dcfs_xattrs;

/* Append one attribute; call dcfs_xattrs_sort() after the last. Returns 0 or -ENOMEM/-E2BIG. */
int dcfs_xattrs_add(dcfs_xattrs *x, const char *name, const void *value, size_t value_len);
/* Sort the records by name. Returns 0 or -ENOMEM. */
int dcfs_xattrs_sort(dcfs_xattrs *x);
void dcfs_xattrs_free(dcfs_xattrs *x);

/* Iterate: start with *pos = 0; returns false at the end or on a malformed encoding. */
bool dcfs_xattrs_next(const unsigned char *buf, size_t len, size_t *pos, const char **name,
		      size_t *name_len, const void **value, size_t *value_len);
