/* .dockerignore files with Docker's semantics (moby/patternmatcher and its ignorefile reader, as
 * BuildKit applies them): which paths of a build context the builder does not see.
 *
 * One pattern a line; a line starting with '#' is a comment; blank lines are skipped; patterns
 * are trimmed and cleaned (Go's filepath.Clean, a leading '/' dropped); '!' makes an exception;
 * the last pattern that matches a path decides. '*' and '?' match within one path element,
 * '[...]' is a character class, '**' matches any number of elements; a pattern that matches a
 * folder matches everything under it ("foo" excludes "foo/bar"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct dcfs_dockerignore dcfs_dockerignore;

/* The patterns of `text` (`len` bytes; `name` names the file in errors). A malformed pattern
 * ("!" alone, an unclosed '[', a bad range) is -EINVAL naming the file and the line. */
int dcfs_dockerignore_parse(const char *text, size_t len, const char *name,
			    dcfs_dockerignore **out, dcfs_error *e);

/* The patterns of the file at `path`; a missing file gives an empty list. */
int dcfs_dockerignore_load(const char *path, dcfs_dockerignore **out, dcfs_error *e);

/* Whether `relpath` (relative to the context, '/'-separated, no leading "./") is excluded. */
bool dcfs_dockerignore_match(const dcfs_dockerignore *l, const char *relpath);

/* For an excluded folder `reldir`: whether it must still be walked because an exception may
 * re-include something under it (BuildKit's rule: any exception with a wildcard, or one whose
 * path lies under the folder). */
bool dcfs_dockerignore_walk_excluded(const dcfs_dockerignore *l, const char *reldir);

/* The number of patterns (exceptions included). */
size_t dcfs_dockerignore_count(const dcfs_dockerignore *l);

void dcfs_dockerignore_free(dcfs_dockerignore *l);

static inline void dcfs_dockerignore_freep(dcfs_dockerignore **l)
{
	dcfs_dockerignore_free(*l);
}
#define _cleanup_dockerignore_ __attribute__((cleanup(dcfs_dockerignore_freep)))
