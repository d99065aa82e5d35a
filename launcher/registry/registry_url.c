/* The URL policy of the registry client (see registry_url.h): https everywhere, plain http only
 * to this machine or with --insecure, and credentials never over plain http to another host.
 * URLs are taken apart with libcurl's own parser, so the policy sees what curl will connect to. */
#include "registry_url.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"

bool registry_loopback(const char *host)
{
	if (!strncmp(host, "[::1]", 5))
		return host[5] == '\0' || host[5] == ':';
	size_t n = strcspn(host, ":");
	if (n == 9 && !strncasecmp(host, "localhost", 9))
		return true;
	return !strncmp(host, "127.", 4) && strspn(host, "0123456789.") == n;
}

/* The scheme, host and port (the scheme's default when not given) of `url`, malloc'd. */
typedef struct url_parts {
	char *scheme, *host, *port;
} url_parts;

static void url_parts_free(url_parts *p)
{
	curl_free(p->scheme);
	curl_free(p->host);
	curl_free(p->port);
}

static bool url_split(const char *url, url_parts *p)
{
	*p = (url_parts){0};
	CURLU *u = curl_url();
	bool ok = u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_SCHEME, &p->scheme, 0) == CURLUE_OK;
	if (ok && curl_url_get(u, CURLUPART_HOST, &p->host, 0) != CURLUE_OK)
		p->host = NULL; /* file:///etc/passwd has none */
	if (ok && curl_url_get(u, CURLUPART_PORT, &p->port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		p->port = NULL;
	curl_url_cleanup(u);
	if (!ok)
		url_parts_free(p);
	return ok;
}

int registry_url_check(const char *url, bool insecure, dcfs_error *e)
{
	_cleanup_(url_parts_free) url_parts p = {0};
	if (!url_split(url, &p))
		return dcfs_error_set(e, EPERM, "refusing to fetch %s: not a valid URL", url);
	if (!strcasecmp(p.scheme, "https") && p.host && *p.host)
		return 0;
	if (strcasecmp(p.scheme, "http") || !p.host || !*p.host)
		return dcfs_error_set(e, EPERM, "refusing to fetch %s: only https and http URLs are "
				      "fetched, not %s", url, p.scheme);
	if (insecure || registry_loopback(p.host))
		return 0;
	return dcfs_error_set(e, EPERM, "refusing to fetch %s: plain http to a host other than "
			      "this machine (https is required, or --insecure)", url);
}

bool registry_url_may_get_credentials(const char *url, const char *registry_url)
{
	_cleanup_(url_parts_free) url_parts to = {0}, reg = {0};
	if (!url_split(url, &to) || !url_split(registry_url, &reg) || !to.host || !reg.host)
		return false;
	if (!strcasecmp(to.scheme, "https"))
		return true;
	return !strcasecmp(to.scheme, reg.scheme) && !strcasecmp(to.host, reg.host) && to.port &&
	       reg.port && !strcmp(to.port, reg.port);
}
