/* Inflating a gzip stream as it arrives: one member or several one after another (as `gzip -c a
 * b` and parallel compressors write them), each checked against its CRC-32 and length. ISA-L's
 * igzip when dcfs was built with it (DCFS_HAVE_ISAL), several times faster than zlib, which is
 * the fallback. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cleanup.h"
#include "error.h"

typedef struct dcfs_gunzip dcfs_gunzip;

/* Does `buf` start like a gzip member (its magic and the deflate method)? */
bool dcfs_gunzip_magic(const void *buf, size_t len);

int dcfs_gunzip_new(dcfs_gunzip **out, dcfs_error *e);
void dcfs_gunzip_free(dcfs_gunzip *g);
DEFINE_TRIVIAL_CLEANUP(dcfs_gunzip *, dcfs_gunzip_free)

/* Give the next compressed bytes; the earlier ones must all have been consumed (see
 * dcfs_gunzip_needs_input). `buf` stays the caller's and must live until then. */
void dcfs_gunzip_input(dcfs_gunzip *g, const void *buf, size_t len);
bool dcfs_gunzip_needs_input(const dcfs_gunzip *g);

/* Inflate into out[0..cap): the count of bytes written (fewer than `cap`, maybe 0, when the
 * input given so far is used up, which dcfs_gunzip_needs_input() then says), or -EBADMSG with
 * `e` filled ("corrupt gzip stream: ...") when the data is not sound gzip. */
ssize_t dcfs_gunzip_read(dcfs_gunzip *g, void *out, size_t cap, dcfs_error *e);

/* The input has ended: 0 when it ended between members, -EBADMSG when a member is cut short. */
int dcfs_gunzip_end(dcfs_gunzip *g, dcfs_error *e);
