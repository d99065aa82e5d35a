/* One .dockerignore pattern: compiled the way moby/patternmatcher compiles it (its kinds: exact,
 * prefix, suffix, and the glob it turns into a regular expression), and matched against a path.
 *
 * The glob is matched directly rather than through a regular expression: '*' is "[^/]*", '?' is
 * "[^/]", "**" followed by more is "(.*" "/)?", a final "**" is ".*", a class is a class (a
 * negated one also matches '/', as the regular expression's does), '\' escapes the next
 * character, and characters are UTF-8 (an invalid byte counts as one character). */
#include "dockerignore_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* ---- UTF-8 ------------------------------------------------------------------------------ */

/* The character at s (n bytes left, n > 0) and its length; an invalid sequence is U+FFFD of
 * one byte, as Go decodes it. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	unsigned c = s[0];
	size_t need = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2
					  : c >= 0xf0 && c < 0xf5 ? 3 : 4;
	*len = 1;
	if (need == 0)
		return c;
	if (need == 4 || need >= n)
		return 0xfffd;
	uint32_t r = c & (0x3f >> need);
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0xfffd;
		r = r << 6 | (s[i] & 0x3f);
	}
	static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
	if (r < min[need] || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
		return 0xfffd;
	*len = need + 1;
	return r;
}

/* ---- compiling ---------------------------------------------------------------------------- */

static int add_token(dcfs_di_pattern *p, dcfs_di_token t)
{
	if (DCFS_GROW(p->tokens, p->cap_tokens, p->n_tokens, 16) < 0)
		return -ENOMEM;
	p->tokens[p->n_tokens++] = t;
	return 0;
}

/* One character of a class (Go's getEsc): not '-' or ']' unescaped, '\' escapes. */
static int class_char(const char **pp, uint32_t *out)
{
	const char *s = *pp;
	if (!*s || *s == '-' || *s == ']')
		return -EINVAL;
	if (*s == '\\' && !*++s)
		return -EINVAL;
	size_t len;
	*out = utf8_next((const unsigned char *)s, strlen(s), &len);
	*pp = s + len;
	return 0;
}

/* The class after '[' at *pp, up to and past its ']'. */
static int compile_class(dcfs_di_pattern *p, const char **pp, dcfs_di_token *t)
{
	const char *s = *pp;
	*t = (dcfs_di_token){.type = DCFS_DI_CLASS, .first = p->n_ranges};
	if (*s == '^') {
		t->negated = true;
		s++;
	}
	for (;;) {
		if (*s == ']' && t->n_ranges > 0) {
			*pp = s + 1;
			return 0;
		}
		uint32_t lo, hi;
		if (class_char(&s, &lo) < 0)
			return -EINVAL;
		hi = lo;
		if (*s == '-') {
			s++;
			if (class_char(&s, &hi) < 0 || hi < lo)
				return -EINVAL;
		}
		if (DCFS_GROW(p->ranges, p->cap_ranges, p->n_ranges, 4) < 0)
			return -ENOMEM;
		p->ranges[p->n_ranges][0] = lo;
		p->ranges[p->n_ranges][1] = hi;
		p->n_ranges++;
		t->n_ranges++;
	}
}

/* "**" at *pp (past the first '*'): patternmatcher's rules for it. */
static int compile_dstar(dcfs_di_pattern *p, const char **pp, size_t i)
{
	const char *s = *pp + 1;
	if (*s == '/')
		s++;
	*pp = s;
	int r = 0;
	if (!*s && p->kind == DCFS_DI_EXACT) {
		p->kind = DCFS_DI_PREFIX;
	} else {
		r = add_token(p, (dcfs_di_token){.type = *s ? DCFS_DI_DSTAR_DIR : DCFS_DI_DSTAR_ALL});
		p->kind = DCFS_DI_GLOB;
	}
	if (i == 0)
		p->kind = DCFS_DI_SUFFIX;
	return r;
}

int dcfs_di_compile(dcfs_di_pattern *p)
{
	const char *s = p->text;
	p->kind = DCFS_DI_EXACT;
	for (size_t i = 0; *s; i++) {
		char c = *s++;
		dcfs_di_token t = {.type = DCFS_DI_LIT, .byte = (unsigned char)c};
		int r = 0;
		if (c == '*' && *s == '*') {
			r = compile_dstar(p, &s, i);
			if (r < 0)
				return r;
			continue;
		}
		if (c == '*' || c == '?') {
			t.type = c == '*' ? DCFS_DI_STAR : DCFS_DI_ANY;
			p->kind = DCFS_DI_GLOB;
		} else if (c == '\\') {
			if (!*s)
				return -EINVAL; /* Go's filepath.Match: a trailing '\' */
			t.byte = (unsigned char)*s++;
			p->kind = DCFS_DI_GLOB;
		} else if (c == '[') {
			r = compile_class(p, &s, &t);
			p->kind = DCFS_DI_GLOB;
		} else if (c == ']') {
			p->kind = DCFS_DI_GLOB;
		}
		if (r < 0 || (r = add_token(p, t)) < 0)
			return r;
	}
	return 0;
}

/* ---- matching ----------------------------------------------------------------------------- */

static bool in_class(const dcfs_di_pattern *p, const dcfs_di_token *t, uint32_t c)
{
	bool in = false;
	for (size_t i = t->first; i < t->first + t->n_ranges && !in; i++)
		in = c >= p->ranges[i][0] && c <= p->ranges[i][1];
	return in != t->negated;
}

static bool glob_at(const dcfs_di_pattern *p, size_t ti, const char *s, const char *end);

/* '*': the rest matches after some characters that are not '/'. */
static bool star_at(const dcfs_di_pattern *p, size_t ti, const char *s, const char *end)
{
	for (;;) {
		if (glob_at(p, ti + 1, s, end))
			return true;
		if (s == end || *s == '/')
			return false;
		size_t len;
		utf8_next((const unsigned char *)s, (size_t)(end - s), &len);
		s += len;
	}
}

/* "(.*" "/)?": the rest matches here or just after some '/'. */
static bool dstar_dir_at(const dcfs_di_pattern *p, size_t ti, const char *s, const char *end)
{
	if (glob_at(p, ti + 1, s, end))
		return true;
	for (const char *q = s; q < end; q++)
		if (*q == '/' && glob_at(p, ti + 1, q + 1, end))
			return true;
	return false;
}

static bool glob_at(const dcfs_di_pattern *p, size_t ti, const char *s, const char *end)
{
	for (; ti < p->n_tokens; ti++) {
		const dcfs_di_token *t = &p->tokens[ti];
		size_t len = 1;
		uint32_t c = 0;
		switch (t->type) {
		case DCFS_DI_LIT:
			if (s == end || (unsigned char)*s != t->byte)
				return false;
			break;
		case DCFS_DI_ANY:
		case DCFS_DI_CLASS:
			if (s == end)
				return false;
			c = utf8_next((const unsigned char *)s, (size_t)(end - s), &len);
			if (t->type == DCFS_DI_ANY ? c == '/' : !in_class(p, t, c))
				return false;
			break;
		case DCFS_DI_STAR:
			return star_at(p, ti, s, end);
		case DCFS_DI_DSTAR_DIR:
			return dstar_dir_at(p, ti, s, end);
		case DCFS_DI_DSTAR_ALL:
			return true;
		}
		s += len;
	}
	return s == end;
}

bool dcfs_di_match(const dcfs_di_pattern *p, const char *s, size_t n)
{
	size_t tl = strlen(p->text);
	switch (p->kind) {
	case DCFS_DI_EXACT:
		return n == tl && !memcmp(s, p->text, n);
	case DCFS_DI_PREFIX: /* the text without its trailing "**" */
		return n >= tl - 2 && !memcmp(s, p->text, tl - 2);
	case DCFS_DI_SUFFIX: { /* the text without its leading "**"; "**" "/foo" also matches "foo" */
		const char *suf = p->text + 2;
		size_t sl = tl - 2;
		if (n >= sl && !memcmp(s + n - sl, suf, sl))
			return true;
		return sl && suf[0] == '/' && n == sl - 1 && !memcmp(s, suf + 1, n);
	}
	case DCFS_DI_GLOB:
		return glob_at(p, 0, s, s + n);
	}
	return false;
}

void dcfs_di_pattern_free(dcfs_di_pattern *p)
{
	free(p->text);
	free(p->tokens);
	free(p->ranges);
	*p = (dcfs_di_pattern){0};
}
