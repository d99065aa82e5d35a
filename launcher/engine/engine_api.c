/* One Engine API request over the engine's unix socket with libcurl: "http://d/v1.41" + path,
 * JSON bodies, replies buffered (or split into lines as they arrive, for a pull's progress), a
 * failed status mapped onto -errno with the engine's message. The handle is reused, so requests
 * share one kept-alive connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "engine_internal.h"

typedef struct sink {
	CURL *curl;
	engine_lines *lines;
	dcfs_strbuf *buf;
} sink;

/* Hand over every complete line in the buffer and keep the rest. */
static int flush_lines(sink *s)
{
	char *start = s->buf->s, *nl;
	while ((nl = memchr(start, '\n', s->buf->len - (size_t)(start - s->buf->s)))) {
		*nl = 0;
		int r = s->lines->line(s->lines->opaque, start);
		if (r < 0) {
			s->lines->result = r;
			return r;
		}
		start = nl + 1;
	}
	size_t rest = s->buf->len - (size_t)(start - s->buf->s);
	memmove(s->buf->s, start, rest + 1);
	s->buf->len = rest;
	return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *opaque)
{
	sink *s = opaque;
	if (dcfs_strbuf_put(s->buf, p, size * n) < 0)
		return 0;
	long status = 0;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (s->lines && status >= 200 && status < 300 && flush_lines(s) < 0)
		return 0;
	return size * n;
}

static void setup(CURL *c, const dcfs_engine *en, const char *method, const char *url,
		  const char *body, struct curl_slist *h, sink *s)
{
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, en->socket);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	}
}

int engine_request(dcfs_engine *en, const char *method, const char *path, const char *body,
		   engine_lines *lines, dcfs_strbuf *reply, long *status, const char *what,
		   dcfs_error *e)
{
	CURL *c = en->curl;
	_cleanup_free_ char *url = NULL;
	if (asprintf(&url, "http://d/v1.41%s", path) < 0)
		return -ENOMEM;
	struct curl_slist *h = curl_slist_append(NULL, "Expect:");
	if (body)
		h = curl_slist_append(h, "Content-Type: application/json");
	sink s = {.curl = c, .lines = lines, .buf = reply};
	setup(c, en, method, url, body, h, &s);
	CURLcode cr = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (lines && lines->result < 0)
		return lines->result;
	if (cr != CURLE_OK) {
		int code = cr == CURLE_COULDNT_CONNECT ? ECONNREFUSED : EIO;
		return dcfs_error_set(e, code, "%s: %s: %s (socket %s)", en->kind, what,
				      curl_easy_strerror(cr), en->socket);
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (lines && *status >= 200 && *status < 300 && reply->len) {
		int r = lines->line(lines->opaque, reply->s); /* a last line without newline */
		if (r < 0)
			return r;
		reply->len = 0;
	}
	return 0;
}

int engine_status_error(const dcfs_engine *en, long status, const char *reply, const char *what,
			dcfs_error *e)
{
	int code = status == 404 ? ENOENT : status == 409 ? EEXIST : EIO;
	_cleanup_json_ cJSON *j = reply ? cJSON_Parse(reply) : NULL;
	const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "message"));
	if (!msg && reply && *reply && !j)
		msg = reply;
	if (msg) {
		size_t n = strcspn(msg, "\n");
		return dcfs_error_set(e, code, "%s: %s: %.*s", en->kind, what, (int)n, msg);
	}
	return dcfs_error_set(e, code, "%s: %s: HTTP status %ld", en->kind, what, status);
}

int dcfs_engine_call(dcfs_engine *en, const char *method, const char *path, const cJSON *body,
		     const char *what, cJSON **reply, dcfs_error *e)
{
	_cleanup_free_ char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	if (body && !text)
		return -ENOMEM;
	dcfs_strbuf b = {0};
	long status = 0;
	int r = engine_request(en, method, path, text, NULL, &b, &status, what, e);
	if (r >= 0 && status >= 400)
		r = engine_status_error(en, status, b.s, what, e);
	if (r >= 0 && reply) {
		*reply = NULL;
		if (b.len && !(*reply = cJSON_Parse(b.s)))
			r = dcfs_error_set(e, EIO, "%s: %s: the engine's answer is not JSON", en->kind,
					   what);
	}
	free(b.s);
	return r;
}

char *engine_escape(const dcfs_engine *en, const char *s)
{
	char *c = curl_easy_escape(en->curl, s, 0);
	char *out = c ? strdup(c) : NULL;
	curl_free(c);
	return out;
}

char *engine_label_filters(const dcfs_engine *en, const char *const *labels)
{
	if (!labels || !labels[0])
		return strdup("");
	_cleanup_json_ cJSON *f = cJSON_CreateObject();
	cJSON *a = cJSON_AddArrayToObject(f, "label");
	for (size_t i = 0; labels[i]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(labels[i]));
	_cleanup_free_ char *text = cJSON_PrintUnformatted(f);
	_cleanup_free_ char *esc = text ? engine_escape(en, text) : NULL;
	char *out = NULL;
	if (esc && asprintf(&out, "filters=%s", esc) < 0)
		out = NULL;
	return out;
}

char *engine_path(const dcfs_engine *en, const char *prefix, const char *name,
		  const char *suffix)
{
	_cleanup_free_ char *esc = engine_escape(en, name);
	char *p = NULL;
	if (!esc || asprintf(&p, "%s%s%s", prefix, esc, suffix) < 0)
		return NULL;
	return p;
}

int engine_call_gone_ok(dcfs_engine *en, const char *method, const char *path, const char *what,
			dcfs_error *e)
{
	int r = dcfs_engine_call(en, method, path, NULL, what, NULL, e);
	if (r != -ENOENT)
		return r;
	dcfs_error_clear(e);
	return 0;
}

int engine_reply_id(const dcfs_engine *en, const cJSON *reply, const char *what, char **id,
		    dcfs_error *e)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reply, "Id"));
	if (!s)
		return dcfs_error_set(e, EIO, "%s: %s: no Id in the answer", en->kind, what);
	*id = strdup(s);
	return *id ? 0 : -ENOMEM;
}
