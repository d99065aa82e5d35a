/* Which URLs dcfs fetches from a registry (its own, a redirect's, a token realm's) and which of
 * them may carry the registry's credentials. */
#pragma once

#include <stdbool.h>

#include "error.h"

/* `host` ("host", "host:port", "[v6]:port") is the local machine: localhost, 127.0.0.0/8 or
 * [::1]. */
bool registry_loopback(const char *host);

/* 0 when `url` may be fetched: https, or plain http to a loopback host or when `insecure`.
 * Otherwise -EPERM with "refusing to fetch URL: REASON". */
int registry_url_check(const char *url, bool insecure, dcfs_error *e);

/* Whether the credentials of the registry at `registry_url` may be sent with a request to `url`:
 * to the registry itself (same scheme, host and port), or to another host over https. */
bool registry_url_may_get_credentials(const char *url, const char *registry_url);
