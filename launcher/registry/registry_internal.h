/* Shared by registry.c and registry_blob.c (and pull.c for registry_digest). Not an API. */
#pragma once

#include <curl/curl.h>

#include "registry.h"

/* Set the options every request shares on `c` (URL, headers, redirects, timeouts), with the URL
 * policy of registry_url.h checked by curl before every request it sends. */
void registry_setup(dcfs_registry *r, CURL *c, const char *url, struct curl_slist *headers);
/* The headers for a request to the registry (Accept when given, Authorization when known). */
struct curl_slist *registry_headers(dcfs_registry *r, const char *accept);
/* "https://host/v2/REPO/blobs/DIGEST" (malloc'd). */
char *registry_url(dcfs_registry *r, const char *kind, const char *reference);
/* After a transfer on `c` failed with `rc`: when the URL policy (registry_url.h) refused it
 * (the first URL or a redirect), fill `e` with why and return -EPERM; otherwise 0. */
int registry_refusal(dcfs_registry *r, CURL *c, CURLcode rc, dcfs_error *e);
/* An error for HTTP `status` on `what` ("manifest", "blob sha256:..."). */
int registry_status_error(long status, const char *what, dcfs_error *e);
/* After a 401 on `c`: answer its challenge. 1 when there are new credentials to retry with. */
int registry_authenticate(dcfs_registry *r, CURL *c, dcfs_error *e);
/* Worth another try after a pause: 429 and 5xx answers, and transfers that broke. */
bool registry_retryable(CURLcode rc, long status);
/* Sleep before retry `attempt` (0, 1, ...): 0.25 s doubling, or the server's Retry-After (at
 * most 10 s). False when the attempts are used up. */
bool registry_backoff(CURL *c, int attempt);
/* "sha256:<hex>" of `buf`. */
void registry_digest(const void *buf, size_t len, char out[8 + 64]);
/* The value of `key` (any case) in a WWW-Authenticate challenge's parameters, after the scheme
 * (`realm="v",service=v2`), malloc'd; NULL when absent or out of memory. Quoted values run to
 * the next '"' (no escapes), unquoted ones to the next ','; the first of duplicate keys wins. */
char *registry_challenge_param(const char *params, const char *key);
