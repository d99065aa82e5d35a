/* The distribution client (see registry.h): the connection settings of a registry, its
 * credentials, the authentication challenge (Basic, or a Bearer token from the realm the
 * registry names) and whole-body GETs of manifests and small blobs. Streaming blob reads are
 * in registry_blob.c. */
#include "registry.h"
#include "registry_internal.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "registry_url.h"

#define MAX_BODY (16u << 20) /* manifests and configs are small */
#define MAX_RETRIES 4
#define HUB_HOST "registry-1.docker.io"
#define HUB_AUTH_KEY "https://index.docker.io/v1/"

static const char manifest_accept[] =
	"Accept: application/vnd.oci.image.index.v1+json,"
	"application/vnd.docker.distribution.manifest.list.v2+json,"
	"application/vnd.oci.image.manifest.v1+json,"
	"application/vnd.docker.distribution.manifest.v2+json";

struct dcfs_registry {
	char *host; /* host[:port] as curl wants it */
	char *scheme;
	char *repository;
	char *basic;       /* base64 "user:password", or NULL */
	char *auth_header; /* "Authorization: ..." once a challenge is answered */
	bool insecure;     /* --insecure: plain http to any host */
	char *refused;     /* why the URL policy stopped the last transfer, or NULL */
	CURL *curl;
};

static char *base64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static char *read_file(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&buf, &cap, '\0', f);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* `auths` of the Docker client's config: the entry for `host` (or its https:// form). */
static char *docker_config_auth(const char *host)
{
	_cleanup_free_ char *path = NULL;
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	if (dir ? asprintf(&path, "%s/config.json", dir) < 0
		: !home || asprintf(&path, "%s/.docker/config.json", home) < 0)
		return NULL;
	_cleanup_free_ char *text = read_file(path);
	cJSON *root = text ? cJSON_Parse(text) : NULL;
	cJSON *auths = cJSON_GetObjectItemCaseSensitive(root, "auths");
	_cleanup_free_ char *https = NULL;
	if (asprintf(&https, "https://%s", host) < 0)
		https = NULL;
	const char *keys[] = {host, https, !strcmp(host, HUB_HOST) ? HUB_AUTH_KEY : NULL};
	char *found = NULL;
	for (size_t i = 0; i < ELEMENTSOF(keys) && !found && auths; i++) {
		cJSON *a = keys[i] ? cJSON_GetObjectItemCaseSensitive(auths, keys[i]) : NULL;
		cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "auth");
		if (cJSON_IsString(v) && *v->valuestring)
			found = strdup(v->valuestring);
	}
	cJSON_Delete(root);
	return found;
}

static char *credentials(const char *host)
{
	const char *env = getenv("DCFS_REGISTRY_AUTH");
	if (env && *env)
		return base64(env);
	return docker_config_auth(host);
}

int dcfs_registry_open(const dcfs_ref *ref, bool insecure, dcfs_registry **out, dcfs_error *e)
{
	*out = NULL;
	dcfs_registry *r = calloc(1, sizeof(*r));
	if (!r)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	bool hub = !ref->registry || !strcmp(ref->registry, "docker.io") ||
		   !strcmp(ref->registry, "index.docker.io");
	r->host = strdup(hub ? HUB_HOST : ref->registry);
	r->repository = strdup(ref->repository);
	r->scheme = strdup(r->host && (insecure || registry_loopback(r->host)) ? "http" : "https");
	r->insecure = insecure;
	r->curl = curl_easy_init();
	if (!r->host || !r->repository || !r->scheme || !r->curl) {
		dcfs_registry_free(r);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	r->basic = credentials(r->host);
	*out = r;
	return 0;
}

static char *strdup_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*oom = true;
	return d;
}

int dcfs_registry_clone(const dcfs_registry *r, dcfs_registry **out, dcfs_error *e)
{
	*out = NULL;
	dcfs_registry *c = calloc(1, sizeof(*c));
	if (!c)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	bool oom = false;
	c->host = strdup_null(r->host, &oom);
	c->scheme = strdup_null(r->scheme, &oom);
	c->repository = strdup_null(r->repository, &oom);
	c->basic = strdup_null(r->basic, &oom);
	c->auth_header = strdup_null(r->auth_header, &oom);
	c->insecure = r->insecure;
	c->curl = curl_easy_init();
	if (oom || !c->curl) {
		dcfs_registry_free(c);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	*out = c;
	return 0;
}

void dcfs_registry_free(dcfs_registry *r)
{
	if (!r)
		return;
	if (r->curl)
		curl_easy_cleanup(r->curl);
	free(r->host);
	free(r->scheme);
	free(r->repository);
	free(r->basic);
	free(r->auth_header);
	free(r->refused);
	free(r);
}

void dcfs_http_body_free(dcfs_http_body *b)
{
	free(b->data);
	*b = (dcfs_http_body){0};
}

char *registry_url(dcfs_registry *r, const char *kind, const char *reference)
{
	char *url = NULL;
	if (asprintf(&url, "%s://%s/v2/%s/%s/%s", r->scheme, r->host, r->repository, kind,
		     reference) < 0)
		return NULL;
	return url;
}

struct curl_slist *registry_headers(dcfs_registry *r, const char *accept)
{
	struct curl_slist *h = curl_slist_append(NULL, "User-Agent: dcfs");
	if (h && accept)
		h = curl_slist_append(h, accept);
	if (h && r->auth_header)
		h = curl_slist_append(h, r->auth_header);
	return h;
}

/* Before each request curl sends (the first and every redirect's): may its URL be fetched? */
static int check_request(void *opaque, char *ip, char *local_ip, int port, int local_port)
{
	(void)ip, (void)local_ip, (void)port, (void)local_port;
	CURL *c = opaque;
	dcfs_registry *r = NULL;
	char *url = NULL;
	if (curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&r) != CURLE_OK || !r)
		return CURL_PREREQFUNC_ABORT;
	curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &url);
	_cleanup_error_ dcfs_error e = {0};
	if (url && registry_url_check(url, r->insecure, &e) == 0)
		return CURL_PREREQFUNC_OK;
	free(r->refused);
	r->refused = e.msg ? strdup(e.msg) : NULL;
	return CURL_PREREQFUNC_ABORT;
}

void registry_setup(dcfs_registry *r, CURL *c, const char *url, struct curl_slist *headers)
{
	curl_easy_reset(c);
	free(r->refused);
	r->refused = NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	/* https only, unless plain http is allowed for this URL (this machine, or --insecure); no
	 * redirect from https down to plain http; each request's URL is checked again before it
	 * is sent (a redirect from a local registry to plain http elsewhere is refused) */
	bool plain = strncasecmp(url, "https:", 6) && registry_url_check(url, r->insecure, NULL) == 0;
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, plain ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, plain ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, check_request);
	curl_easy_setopt(c, CURLOPT_PREREQDATA, c);
	/* credentials set as headers are not sent on to another host after a redirect */
	curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a transfer slower than 1 kB/s for a minute is broken */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1000L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
}

int registry_status_error(long status, const char *what, dcfs_error *e)
{
	switch (status) {
	case 401:
		return dcfs_error_set(e, EACCES, "authentication failed (HTTP 401)");
	case 403:
		return dcfs_error_set(e, EACCES, "access denied (HTTP 403)");
	case 404:
		return dcfs_error_set(e, ENOENT, "%s unknown (HTTP 404)", what);
	case 429:
		return dcfs_error_set(e, EAGAIN, "too many requests (HTTP 429)");
	default:
		return dcfs_error_set(e, EPROTO, "%s: HTTP %ld", what, status);
	}
}

void registry_digest(const void *buf, size_t len, char out[8 + 64])
{
	dcfs_hash h;
	dcfs_hash_buf(buf, len, &h);
	memcpy(out, "sha256:", 7);
	dcfs_hash_to_hex(&h, out + 7);
}

int registry_refusal(dcfs_registry *r, CURL *c, CURLcode rc, dcfs_error *e)
{
	if (rc == CURLE_ABORTED_BY_CALLBACK && r->refused)
		return dcfs_error_set(e, EPERM, "%s", r->refused);
	char *url = NULL;
	if (rc == CURLE_UNSUPPORTED_PROTOCOL &&
	    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url &&
	    registry_url_check(url, r->insecure, e) < 0)
		return -EPERM;
	return 0;
}

bool registry_retryable(CURLcode rc, long status)
{
	switch (rc) {
	case CURLE_OK:
		return status == 429 || (status >= 500 && status <= 599);
	case CURLE_COULDNT_CONNECT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

bool registry_backoff(CURL *c, int attempt)
{
	if (attempt >= MAX_RETRIES)
		return false;
	curl_off_t after = 0;
	if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &after) != CURLE_OK || after < 0)
		after = 0;
	long ms = after > 0 ? (long)(after > 10 ? 10 : after) * 1000 : 250L << attempt;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
	return true;
}

/* ---- whole-body GETs ----------------------------------------------------------------------- */

/* Where a whole body goes: the body, and whether it outgrew MAX_BODY. */
typedef struct sink {
	dcfs_http_body *body;
	bool too_big;
} sink;

static size_t body_write(char *data, size_t size, size_t n, void *opaque)
{
	sink *k = opaque;
	dcfs_http_body *b = k->body;
	size_t len = size * n;
	if (b->len + len + 1 > MAX_BODY) {
		k->too_big = true;
		return 0;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *p = realloc(b->data, cap);
		if (!p)
			return 0;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

/* GET `url` whole into `out`; `what` names it in errors ("manifest of REF"). */
static int perform(dcfs_registry *r, const char *url, const char *accept, const char *what,
		   dcfs_http_body *out, long *status, dcfs_error *e)
{
	dcfs_http_body_free(out);
	struct curl_slist *h = registry_headers(r, accept);
	if (!h)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	registry_setup(r, r->curl, url, h);
	sink k = {.body = out};
	curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, &k);
	CURLcode rc = CURLE_OK;
	for (int attempt = 0;; attempt++) {
		*status = 0;
		k.too_big = false;
		out->len = 0;
		if (out->data)
			out->data[0] = '\0';
		rc = curl_easy_perform(r->curl);
		if (rc == CURLE_OK)
			curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, status);
		if (!registry_retryable(rc, *status) || !registry_backoff(r->curl, attempt))
			break;
	}
	curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	if (k.too_big)
		return dcfs_error_set(e, EFBIG, "%s is larger than %u bytes", what, MAX_BODY);
	if (rc != CURLE_OK && registry_refusal(r, r->curl, rc, e) < 0)
		return -EPERM;
	if (rc != CURLE_OK)
		return dcfs_error_set(e, EIO, "%s: %s", r->host, curl_easy_strerror(rc));
	return 0;
}

/* GET `url`, answering one authentication challenge. */
static int get(dcfs_registry *r, const char *url, const char *accept, const char *what,
	       dcfs_http_body *out, long *status, dcfs_error *e)
{
	for (int attempt = 0;; attempt++) {
		int k = perform(r, url, accept, what, out, status, e);
		if (k < 0 || *status != 401 || attempt > 0)
			return k;
		k = registry_authenticate(r, r->curl, e);
		if (k <= 0)
			return k;
	}
}

/* GET `url` (`what` names it in messages) into `out`, wanting 200; the body of a `kind`
 * ("manifest", "blob") named by `digest` (not NULL) must have that digest. */
static int get_verified(dcfs_registry *r, const char *url, const char *accept, const char *what,
			const char *kind, const char *digest, dcfs_http_body *out, dcfs_error *e)
{
	long status = 0;
	int k = get(r, url, accept, what, out, &status, e);
	if (k < 0)
		return k;
	if (status != 200)
		return registry_status_error(status, kind, e);
	if (!digest)
		return 0;
	char got[8 + 64];
	registry_digest(out->data ? out->data : "", out->len, got);
	if (strcmp(got, digest))
		return dcfs_error_set(e, EBADMSG, "%s %s does not match its digest (got %s)", kind,
				      digest, got);
	return 0;
}

int dcfs_registry_manifest(dcfs_registry *r, const char *reference, dcfs_http_body *out,
			   char **media_type, dcfs_error *e)
{
	*media_type = NULL;
	_cleanup_free_ char *url = registry_url(r, "manifests", reference);
	_cleanup_free_ char *what = NULL;
	if (!url || asprintf(&what, "manifest of %s/%s%c%s", r->host, r->repository,
			     strncmp(reference, "sha256:", 7) ? ':' : '@', reference) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int k = get_verified(r, url, manifest_accept, what, "manifest",
			     strncmp(reference, "sha256:", 7) ? NULL : reference, out, e);
	if (k < 0)
		return k;
	char *ct = NULL;
	curl_easy_getinfo(r->curl, CURLINFO_CONTENT_TYPE, &ct);
	*media_type = strdup(ct ? ct : "");
	if (!*media_type)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

int dcfs_registry_blob(dcfs_registry *r, const char *digest, dcfs_http_body *out, dcfs_error *e)
{
	_cleanup_free_ char *url = registry_url(r, "blobs", digest);
	_cleanup_free_ char *what = NULL;
	if (!url || asprintf(&what, "blob %s", digest) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return get_verified(r, url, NULL, what, "blob", digest, out, e);
}

/* ---- authentication ------------------------------------------------------------------------- */

/* The value of `key` in a challenge's parameters (`k="v",k2=v2`), malloc'd, or NULL. */
char *registry_challenge_param(const char *params, const char *key)
{
	size_t kn = strlen(key);
	for (const char *p = params; *p;) {
		p += strspn(p, " \t,");
		size_t nlen = strcspn(p, " \t,=");
		if (!nlen) {
			p += *p != 0; /* a stray '=' */
			continue;
		}
		const char *name = p;
		p += nlen;
		p += strspn(p, " \t"); /* RFC 7235 allows spaces around '=' */
		if (*p != '=')
			continue; /* a parameter without a value */
		p++;
		p += strspn(p, " \t");
		bool match = nlen == kn && !strncasecmp(name, key, kn);
		if (*p != '"') { /* a token: up to the next ',' */
			const char *end = strchrnul(p, ',');
			if (match)
				return strndup(p, (size_t)(end - p));
			p = end;
			continue;
		}
		/* a quoted string: a backslash quotes the character after it */
		char *out = match ? malloc(strlen(p)) : NULL, *o = out;
		if (match && !out)
			return NULL;
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (o)
				*o++ = *p;
		}
		p += *p == '"';
		if (match) {
			*o = 0;
			return out;
		}
	}
	return NULL;
}

static int set_auth(dcfs_registry *r, const char *scheme, const char *value, dcfs_error *e)
{
	free(r->auth_header);
	if (asprintf(&r->auth_header, "Authorization: %s %s", scheme, value) < 0) {
		r->auth_header = NULL;
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	return 1;
}

static char *token_url(dcfs_registry *r, const char *params)
{
	_cleanup_free_ char *realm = registry_challenge_param(params, "realm");
	_cleanup_free_ char *service = registry_challenge_param(params, "service");
	_cleanup_free_ char *scope = registry_challenge_param(params, "scope");
	_cleanup_free_ char *dflt = NULL;
	if (!realm)
		return NULL;
	if (!scope && asprintf(&dflt, "repository:%s:pull", r->repository) < 0)
		return NULL;
	char *s = curl_easy_escape(r->curl, service ? service : "", 0);
	char *sc = curl_easy_escape(r->curl, scope ? scope : dflt, 0);
	char *url = NULL;
	if (s && sc &&
	    asprintf(&url, "%s%c%s%s&scope=%s", realm, strchr(realm, '?') ? '&' : '?',
		     service ? "service=" : "", service ? s : "", sc) < 0)
		url = NULL;
	curl_free(s);
	curl_free(sc);
	return url;
}

/* Whether the Basic credentials may go to the token realm `url`: over https (as Docker does), or
 * to the registry itself; never over plain http to another host. */
static bool realm_gets_credentials(dcfs_registry *r, const char *url)
{
	_cleanup_free_ char *base = NULL;
	if (asprintf(&base, "%s://%s/", r->scheme, r->host) < 0)
		return false;
	return registry_url_may_get_credentials(url, base);
}

/* Ask the realm for a token (with the Basic credentials, when there are some and it may have
 * them). The realm is any URL the registry names: it must pass the URL policy first. */
static int bearer(dcfs_registry *r, const char *params, dcfs_error *e)
{
	_cleanup_free_ char *url = token_url(r, params);
	if (!url)
		return dcfs_error_set(e, EPROTO, "%s: bearer challenge without a realm", r->host);
	if (registry_url_check(url, r->insecure, e) < 0)
		return dcfs_error_wrap(e, "token realm of %s", r->host);
	free(r->auth_header);
	r->auth_header = NULL;
	if (r->basic && realm_gets_credentials(r, url) && set_auth(r, "Basic", r->basic, e) < 0)
		return -ENOMEM;
	_cleanup_(dcfs_http_body_free) dcfs_http_body body = {0};
	long status = 0;
	int k = perform(r, url, NULL, "token response", &body, &status, e);
	free(r->auth_header);
	r->auth_header = NULL;
	if (k < 0)
		return dcfs_error_wrap(e, "token");
	if (status != 200)
		return registry_status_error(status == 403 ? 401 : status, "token", e);
	cJSON *j = cJSON_Parse(body.data ? body.data : "");
	cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "token");
	if (!cJSON_IsString(t))
		t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
	k = cJSON_IsString(t) ? set_auth(r, "Bearer", t->valuestring, e)
			      : dcfs_error_set(e, EPROTO, "%s: token response without a token", r->host);
	cJSON_Delete(j);
	return k;
}

int registry_authenticate(dcfs_registry *r, CURL *c, dcfs_error *e)
{
	struct curl_header *h = NULL;
	if (curl_easy_header(c, "WWW-Authenticate", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return 0;
	_cleanup_free_ char *value = strdup(h->value);
	if (!value)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (!strncasecmp(value, "Bearer ", 7))
		return bearer(r, value + 7, e);
	if (!strncasecmp(value, "Basic", 5) && r->basic && !r->auth_header)
		return set_auth(r, "Basic", r->basic, e);
	return 0;
}
