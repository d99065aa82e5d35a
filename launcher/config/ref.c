/* Parsing image references (see ref.h), following the grammar of Docker's reference package:
 * a first component is a registry host when it has a '.' or a ':' or is "localhost"; path
 * components are lowercase alphanumerics joined by '.', '_', '__' or runs of '-'. */
#include "ref.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool valid_component(const char *s, size_t n)
{
	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (is_lower_alnum(c) || c == '-')
			continue;
		if (c == '.' || c == '_') {
			/* '.', '_' or '__' between alphanumerics */
			if (c == '_' && s[i + 1] == '_')
				i++;
			if (!is_lower_alnum(s[i + 1]))
				return false;
			continue;
		}
		return false;
	}
	return true;
}

static bool valid_tag(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return false;
	return true;
}

static bool valid_digest(const char *d)
{
	if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 7 + 64)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* host[:port]: DNS labels or an IPv4 address, or [IPv6]; a port is digits. */
static bool valid_host(const char *s, size_t n)
{
	const char *colon = NULL;
	size_t hn = n;
	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || close == s + 1)
			return false;
		for (const char *p = s + 1; p < close; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':')
				return false;
		hn = (size_t)(close - s) + 1;
		if (hn < n && s[hn] != ':')
			return false;
		colon = hn < n ? s + hn : NULL;
	} else {
		colon = memchr(s, ':', n);
		hn = colon ? (size_t)(colon - s) : n;
		if (hn == 0 || s[0] == '-' || s[0] == '.' || s[hn - 1] == '-' || s[hn - 1] == '.')
			return false;
		for (size_t i = 0; i < hn; i++)
			if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
				return false;
	}
	if (colon) {
		size_t pn = n - (size_t)(colon - s) - 1;
		if (pn == 0 || pn > 5)
			return false;
		for (size_t i = 1; i <= pn; i++)
			if (!isdigit((unsigned char)colon[i]))
				return false;
	}
	return true;
}

static bool looks_like_host(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !strncmp(s, "localhost", 9));
}

int dcfs_ref_parse(const char *text, dcfs_ref *out, dcfs_error *e)
{
	*out = (dcfs_ref){0};
	_cleanup_free_ char *s = strdup(text);
	if (!s)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (!*s || strlen(s) > 255)
		goto bad;
	char *at = strchr(s, '@');
	if (at) {
		*at = '\0';
		if (!valid_digest(at + 1))
			return dcfs_error_set(e, EINVAL, "invalid reference '%s': bad digest", text);
		out->digest = strdup(at + 1);
	}
	char *slash = strchr(s, '/');
	char *path = s;
	if (slash && looks_like_host(s, (size_t)(slash - s))) {
		if (!valid_host(s, (size_t)(slash - s))) {
			dcfs_ref_free(out);
			return dcfs_error_set(e, EINVAL, "invalid reference '%s': bad registry host '%.*s'",
					      text, (int)(slash - s), s);
		}
		out->registry = strndup(s, (size_t)(slash - s));
		path = slash + 1;
	}
	char *colon = strrchr(path, ':');
	if (colon) {
		*colon = '\0';
		if (!valid_tag(colon + 1)) {
			dcfs_ref_free(out);
			return dcfs_error_set(e, EINVAL, "invalid reference '%s': bad tag '%s'", text, colon + 1);
		}
		out->tag = strdup(colon + 1);
	} else if (!out->digest) {
		out->tag = strdup("latest");
	}
	for (char *p = path;;) {
		char *end = strchrnul(p, '/');
		if (!valid_component(p, (size_t)(end - p))) {
			dcfs_ref_free(out);
			goto bad;
		}
		if (!*end)
			break;
		p = end + 1;
	}
	bool hub = !out->registry || !strcmp(out->registry, "docker.io") ||
		   !strcmp(out->registry, "index.docker.io");
	if (hub && !strchr(path, '/')) {
		if (asprintf(&out->repository, "library/%s", path) < 0)
			out->repository = NULL;
	} else {
		out->repository = strdup(path);
	}
	if (!out->repository || (colon && !out->tag) || (at && !out->digest) ||
	    (out->registry == NULL && slash && looks_like_host(s, (size_t)(slash - s)))) {
		dcfs_ref_free(out);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	return 0;
bad:
	return dcfs_error_set(e, EINVAL,
			      "invalid reference '%s': expected [REGISTRY/]NAME[:TAG][@sha256:DIGEST] with a"
			      " lowercase NAME",
			      text);
}

char *dcfs_ref_name(const dcfs_ref *r)
{
	const char *repo = r->repository;
	bool hub = !r->registry || !strcmp(r->registry, "docker.io");
	if (hub && !strncmp(repo, "library/", 8))
		repo += 8;
	char *name = NULL;
	int n = asprintf(&name, "%s%s%s%s%s%s%s", hub ? "" : r->registry, hub ? "" : "/", repo,
			 r->tag ? ":" : "", r->tag ? r->tag : "", r->digest ? "@" : "",
			 r->digest ? r->digest : "");
	return n < 0 ? NULL : name;
}

void dcfs_ref_free(dcfs_ref *r)
{
	free(r->registry);
	free(r->repository);
	free(r->tag);
	free(r->digest);
	*r = (dcfs_ref){0};
}
