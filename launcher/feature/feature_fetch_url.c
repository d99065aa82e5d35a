/* A feature published as a tarball at a URL (see feature_fetch_internal.h): https, or plain
 * http to this machine only (each redirect's URL checked again before it is sent), the body
 * bounded by DCFS_FEATURE_MAX_TAR and held in memory while its SHA-256 is computed, then
 * unpacked into STORE/features/<HEX>/ unless that folder is already there. */
#include "feature_fetch_internal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grow.h"
#include "registry_url.h"

/* One download: the body so far, its running digest, why it stopped. */
typedef struct download {
	CURL *curl;
	char *data;
	size_t len, cap;
	dcfs_hasher hash;
	bool too_big;
	char *refused; /* the message of a request refused before it was sent */
} download;

static size_t body_write(char *data, size_t size, size_t n, void *opaque)
{
	download *d = opaque;
	size_t len = size * n;
	if (d->len + len > DCFS_FEATURE_MAX_TAR) {
		d->too_big = true;
		return 0;
	}
	while (d->len + len > d->cap)
		if (DCFS_GROW(d->data, d->cap, d->cap, 65536) < 0)
			return 0;
	memcpy(d->data + d->len, data, len);
	d->len += len;
	dcfs_hasher_update(&d->hash, data, len);
	return len;
}

/* Before each request (the first and every redirect's): https, or http to this machine. */
static int check_request(void *opaque, char *ip, char *local_ip, int port, int local_port)
{
	(void)ip, (void)local_ip, (void)port, (void)local_port;
	download *d = opaque;
	char *url = NULL;
	curl_easy_getinfo(d->curl, CURLINFO_EFFECTIVE_URL, &url);
	if (url && registry_url_check(url, false, NULL) == 0)
		return CURL_PREREQFUNC_OK;
	free(d->refused);
	d->refused = url ? strdup(url) : strdup("?");
	return CURL_PREREQFUNC_ABORT;
}

/* Redirects followed (up to 10), no signals, 30 s to connect, and a transfer slower than
 * 1 kB/s for a minute is broken. */
static const struct {
	CURLoption option;
	long value;
} long_options[] = {
	{CURLOPT_FOLLOWLOCATION, 1L},  {CURLOPT_MAXREDIRS, 10L},	   {CURLOPT_NOSIGNAL, 1L},
	{CURLOPT_CONNECTTIMEOUT, 30L}, {CURLOPT_LOW_SPEED_LIMIT, 1000L}, {CURLOPT_LOW_SPEED_TIME, 60L},
};

static void setup(download *d, const char *url)
{
	CURL *c = d->curl;
	/* plain http only where the URL is (a loopback host, checked before): no redirect from
	 * https down to http, and each request's URL checked again before it is sent */
	const char *protocols = strncasecmp(url, "https:", 6) ? "http,https" : "https";
	for (size_t i = 0; i < ELEMENTSOF(long_options); i++)
		curl_easy_setopt(c, long_options[i].option, long_options[i].value);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
	curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, check_request);
	curl_easy_setopt(c, CURLOPT_PREREQDATA, d);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)DCFS_FEATURE_MAX_TAR);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
}

static int refuse(const char *url, dcfs_error *e)
{
	return dcfs_error_set(e, EPERM,
			      "refusing to fetch '%s': a feature tarball is fetched over https "
			      "(plain http only from this machine)",
			      url);
}

/* What a failed transfer means: refused, too big, unreachable (-EHOSTUNREACH), or another
 * failure. */
static int transfer_error(download *d, CURLcode rc, dcfs_error *e)
{
	if (d->refused)
		return refuse(d->refused, e);
	if (d->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		return dcfs_error_set(e, EFBIG, "the tarball is larger than %llu bytes",
				      (unsigned long long)DCFS_FEATURE_MAX_TAR);
	char *last = NULL;
	if (rc == CURLE_UNSUPPORTED_PROTOCOL &&
	    curl_easy_getinfo(d->curl, CURLINFO_EFFECTIVE_URL, &last) == CURLE_OK && last)
		return refuse(last, e);
	if (rc == CURLE_WRITE_ERROR)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return dcfs_error_set(e, EHOSTUNREACH, "%s", curl_easy_strerror(rc));
}

static int get(download *d, const char *url, dcfs_error *e)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	d->curl = curl_easy_init();
	if (!d->curl)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	setup(d, url);
	CURLcode rc = curl_easy_perform(d->curl);
	if (rc != CURLE_OK)
		return transfer_error(d, rc, e);
	long status = 0;
	curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return dcfs_error_set(e, status >= 500 ? EHOSTUNREACH : status == 404 ? ENOENT : EPROTO,
				      "HTTP %ld", status);
	return 0;
}

/* The body, handed once to the unpacker. */
typedef struct body_stream {
	const char *data;
	size_t len;
	bool given;
} body_stream;

static ssize_t body_read(void *opaque, const void **buf, dcfs_error *e)
{
	(void)e;
	body_stream *b = opaque;
	*buf = b->data;
	if (b->given)
		return 0;
	b->given = true;
	return (ssize_t)b->len;
}

int dcfs_feature_fetch_url(const char *url, int tmp_fd, int dest_fd,
			   char digest[DCFS_FEATURE_DIGEST_LEN], dcfs_error *e)
{
	if (registry_url_check(url, false, NULL) < 0)
		return refuse(url, e);
	int r;
	download d = {0};
	dcfs_hasher_init(&d.hash);
	r = get(&d, url, e);
	dcfs_hash sum;
	dcfs_hasher_final(&d.hash, &sum);
	dcfs_hasher_free(&d.hash);
	if (d.curl)
		curl_easy_cleanup(d.curl);
	free(d.refused);
	_cleanup_free_ char *data = d.data;
	if (r < 0)
		return r;
	char hex[DCFS_HASH_HEX];
	dcfs_hash_to_hex(&sum, hex);
	snprintf(digest, DCFS_FEATURE_DIGEST_LEN, "sha256:%s", hex);
	if (dcfs_feature_unpacked(dest_fd, hex))
		return 0;
	body_stream b = {.data = data, .len = d.len};
	dcfs_feature_stream in = {.read = body_read, .opaque = &b, .what = "the tarball"};
	return dcfs_feature_unpack(&in, tmp_fd, dest_fd, hex, e);
}
