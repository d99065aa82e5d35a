/* Reading .dockerignore files and deciding which context paths they exclude (see
 * dockerignore.h): the reader follows moby's ignorefile.ReadAll, the decision
 * patternmatcher's MatchesOrParentMatches, the walk rule BuildKit's fsutil. */
#include "dockerignore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "dockerignore_internal.h"
#include "fsutil.h"
#include "grow.h"

struct dcfs_dockerignore {
	dcfs_di_pattern *patterns;
	size_t n, cap;
	bool exceptions;	/* some pattern starts with '!' */
	bool prefix_exceptions; /* every exception is a plain path (BuildKit's walk rule) */
};

/* ---- cleaning (Go's filepath.Clean on '/' paths) ------------------------------------------ */

/* Go's filepath.Clean of the n bytes at `in`: malloc'd, NULL on ENOMEM. */
static char *go_clean(const char *in, size_t n)
{
	char *out = malloc(n + 2);
	if (!out)
		return NULL;
	bool rooted = n && in[0] == '/';
	size_t r = rooted, w = 0, dotdot = 0;
	if (rooted)
		out[w++] = '/', dotdot = 1;
	while (r < n) {
		if (in[r] == '/') {
			r++;
		} else if (in[r] == '.' && (r + 1 == n || in[r + 1] == '/')) {
			r++;
		} else if (in[r] == '.' && r + 1 < n && in[r + 1] == '.' &&
			   (r + 2 == n || in[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				for (w--; w > dotdot && out[w] != '/'; w--)
					;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.', out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && in[r] != '/'; r++)
				out[w++] = in[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

/* ---- reading ------------------------------------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s))
		(*s)++, (*n)--;
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

/* ignorefile.ReadAll's normalization of one trimmed line: "!" kept, the rest trimmed again,
 * cleaned and made relative. malloc'd. */
static char *normalize_line(const char *s, size_t n)
{
	bool invert = s[0] == '!';
	if (invert) {
		s++, n--;
		trim(&s, &n);
	}
	_cleanup_free_ char *clean = n ? go_clean(s, n) : strdup("");
	if (!clean)
		return NULL;
	const char *rel = strlen(clean) > 1 && clean[0] == '/' ? clean + 1 : clean;
	char *out = malloc(strlen(rel) + 2);
	if (out)
		strcpy(stpcpy(out, invert ? "!" : ""), rel);
	return out;
}

/* What last took prefix_exceptions away: a wildcard outside a trailing "/" "**" or "/" "*". */
static bool plain_exception(const char *text)
{
	size_t n = strlen(text);
	if (n >= 3 && !strcmp(text + n - 3, "/**"))
		n -= 3;
	if (n >= 2 && !memcmp(text + n - 2, "/*", 2))
		n -= 2;
	for (size_t i = 0; i < n; i++)
		if (strchr("*[]?^\\", text[i]))
			return false;
	return true;
}

/* patternmatcher.New for one normalized pattern: cleaned again, '!' taken off, compiled. */
static int add_pattern(dcfs_dockerignore *l, const char *norm, const char *name, size_t line,
		       dcfs_error *e)
{
	_cleanup_free_ char *clean = go_clean(norm, strlen(norm));
	if (!clean || DCFS_GROW(l->patterns, l->cap, l->n, 8) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	bool exception = clean[0] == '!';
	if (exception && !clean[1])
		return dcfs_error_set(e, EINVAL, "%s:%zu: illegal exclusion pattern: \"!\"", name, line);
	dcfs_di_pattern p = {.exception = exception, .text = strdup(clean + exception)};
	if (!p.text)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int r = dcfs_di_compile(&p);
	if (r < 0) {
		dcfs_di_pattern_free(&p);
		return r == -ENOMEM ? dcfs_error_set(e, ENOMEM, "out of memory")
				    : dcfs_error_set(e, EINVAL, "%s:%zu: syntax error in pattern '%s'",
						     name, line, clean);
	}
	l->exceptions |= exception;
	if (exception && !plain_exception(p.text))
		l->prefix_exceptions = false;
	l->patterns[l->n++] = p;
	return 0;
}

/* One line of the file (its 1-based number `line`, without its '\n'). */
static int add_line(dcfs_dockerignore *l, const char *s, size_t n, const char *name, size_t line,
		    dcfs_error *e)
{
	if (line == 1 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		s += 3, n -= 3;
	if (n && s[n - 1] == '\r') /* bufio.ScanLines drops it */
		n--;
	if (n && s[0] == '#')
		return 0;
	trim(&s, &n);
	if (!n)
		return 0;
	_cleanup_free_ char *norm = normalize_line(s, n);
	if (!norm)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return add_pattern(l, norm, name, line, e);
}

int dcfs_dockerignore_parse(const char *text, size_t len, const char *name,
			    dcfs_dockerignore **out, dcfs_error *e)
{
	_cleanup_dockerignore_ dcfs_dockerignore *l = calloc(1, sizeof(*l));
	if (!l)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	l->prefix_exceptions = true;
	size_t line = 0;
	for (const char *s = text, *end = text + len; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *stop = nl ? nl : end;
		int r = add_line(l, s, (size_t)(stop - s), name, ++line, e);
		if (r < 0)
			return r;
		s = nl ? nl + 1 : end;
	}
	*out = TAKE_PTR(l);
	return 0;
}

/* The whole of `fd` in a malloc'd buffer. */
static int read_fd(int fd, char **out, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	size_t cap = (size_t)st.st_size + 1, n = 0;
	_cleanup_free_ char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			return -ENOMEM;
		ssize_t got = dcfs_read_full(fd, buf + n, cap - n);
		if (got < 0)
			return (int)got;
		n += (size_t)got;
		if (n < cap)
			break;
		char *bigger = realloc(buf, cap *= 2);
		if (!bigger)
			return -ENOMEM;
		buf = bigger;
	}
	*out = TAKE_PTR(buf);
	*len = n;
	return 0;
}

int dcfs_dockerignore_load(const char *path, dcfs_dockerignore **out, dcfs_error *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return dcfs_dockerignore_parse("", 0, path, out, e);
	if (fd < 0)
		return dcfs_error_set(e, errno, "%s: %m", path);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_fd(fd, &text, &len);
	if (r < 0)
		return dcfs_error_set(e, r, "%s: %s", path, strerror(-r));
	return dcfs_dockerignore_parse(text, len, path, out, e);
}

/* ---- deciding ------------------------------------------------------------------------------ */

/* The pattern matches the path or one of its parent folders. */
static bool pattern_or_parent(const dcfs_di_pattern *p, const char *path, size_t n)
{
	if (dcfs_di_match(p, path, n))
		return true;
	for (size_t i = 0; i < n; i++)
		if (path[i] == '/' && dcfs_di_match(p, path, i))
			return true;
	return false;
}

bool dcfs_dockerignore_match(const dcfs_dockerignore *l, const char *relpath)
{
	size_t n = strlen(relpath);
	if (!n || !strcmp(relpath, "."))
		return false;
	bool matched = false;
	for (size_t i = 0; i < l->n; i++) {
		const dcfs_di_pattern *p = &l->patterns[i];
		if (p->exception != matched)
			continue;
		if (pattern_or_parent(p, relpath, n))
			matched = !p->exception;
	}
	return matched;
}

bool dcfs_dockerignore_walk_excluded(const dcfs_dockerignore *l, const char *reldir)
{
	if (!l->exceptions)
		return false;
	if (!l->prefix_exceptions)
		return true;
	size_t dn = strlen(reldir);
	for (size_t i = 0; i < l->n; i++) {
		const dcfs_di_pattern *p = &l->patterns[i];
		if (!p->exception)
			continue;
		/* the exception without a trailing "/" "**" or "/" "*", then "/", begins with
		 * reldir "/" */
		size_t pn = strlen(p->text);
		if (pn >= 3 && !strcmp(p->text + pn - 3, "/**"))
			pn -= 3;
		if (pn >= 2 && !memcmp(p->text + pn - 2, "/*", 2))
			pn -= 2;
		if (pn >= dn && !memcmp(p->text, reldir, dn) && (pn == dn || p->text[dn] == '/'))
			return true;
	}
	return false;
}

size_t dcfs_dockerignore_count(const dcfs_dockerignore *l)
{
	return l->n;
}

void dcfs_dockerignore_free(dcfs_dockerignore *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		dcfs_di_pattern_free(&l->patterns[i]);
	free(l->patterns);
	free(l);
}
