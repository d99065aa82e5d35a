/* Shared by dockerignore.c and dockerignore_pattern.c: one compiled .dockerignore pattern. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a pattern is matched, as moby/patternmatcher decides it: a plain string, a prefix (a
 * trailing "**" after plain text), a suffix (a leading "**" before plain text: "**file" also
 * matches "xfile", as Docker's does), or the general glob. */
typedef enum dcfs_di_kind {
	DCFS_DI_EXACT,
	DCFS_DI_PREFIX,
	DCFS_DI_SUFFIX,
	DCFS_DI_GLOB,
} dcfs_di_kind;

typedef enum dcfs_di_tok_type {
	DCFS_DI_LIT,	   /* one byte */
	DCFS_DI_ANY,	   /* '?': one character but '/' */
	DCFS_DI_STAR,	   /* '*': any characters but '/' */
	DCFS_DI_DSTAR_DIR, /* "**" or "**" "/" before more: nothing, or anything ending in '/' */
	DCFS_DI_DSTAR_ALL, /* "**" at the end: anything */
	DCFS_DI_CLASS,	   /* '[...]': one character in (or, negated, not in) the ranges */
} dcfs_di_tok_type;

typedef struct dcfs_di_token {
	dcfs_di_tok_type type;
	unsigned char byte;	  /* DCFS_DI_LIT */
	bool negated;		  /* DCFS_DI_CLASS */
	size_t first, n_ranges; /* DCFS_DI_CLASS: its ranges in dcfs_di_pattern.ranges */
} dcfs_di_token;

typedef struct dcfs_di_pattern {
	char *text; /* cleaned, without the '!' */
	bool exception;
	dcfs_di_kind kind;
	dcfs_di_token *tokens; /* DCFS_DI_GLOB */
	size_t n_tokens, cap_tokens;
	uint32_t (*ranges)[2];
	size_t n_ranges, cap_ranges;
} dcfs_di_pattern;

/* Compile p->text into p->kind and its tokens: 0, -EINVAL for a malformed pattern (what Go's
 * filepath.Match rejects: an unclosed or empty class, a bad range, a trailing '\'), -ENOMEM. */
int dcfs_di_compile(dcfs_di_pattern *p);
/* Whether the `n` bytes at `s` match `p` (the whole of them). */
bool dcfs_di_match(const dcfs_di_pattern *p, const char *s, size_t n);
void dcfs_di_pattern_free(dcfs_di_pattern *p);
