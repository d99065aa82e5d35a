/* The hijacked connection of an exec: libcurl connects only (CURLOPT_CONNECT_ONLY) to the
 * engine's socket, the HTTP request is written by hand asking for the upgrade, the answer's
 * head is read up to its blank line, and the socket is left to the stream relay. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "engine_internal.h"

enum { HEAD_MAX = 64 * 1024 };

static int connect_only(dcfs_engine *en, engine_hijack *h, const char *what, dcfs_error *e)
{
	CURL *c = curl_easy_init();
	if (!c)
		return -ENOMEM;
	h->curl = c;
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, en->socket);
	curl_easy_setopt(c, CURLOPT_URL, "http://d/");
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	CURLcode cr = curl_easy_perform(c);
	curl_socket_t fd = CURL_SOCKET_BAD;
	if (cr == CURLE_OK)
		cr = curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &fd);
	if (cr != CURLE_OK || fd == CURL_SOCKET_BAD)
		return dcfs_error_set(e, ECONNREFUSED, "%s: %s: %s (socket %s)", en->kind, what,
				      curl_easy_strerror(cr), en->socket);
	h->fd = fd;
	return 0;
}

/* Wait until fd is ready for `events` (the socket is non-blocking). */
static int wait_fd(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int engine_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			int r = wait_fd(fd, POLLOUT);
			if (r < 0)
				return r;
			continue;
		}
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read until the head's blank line (or the end, for a failed request with no upgrade). */
static int read_head(engine_hijack *h, size_t *head_len)
{
	char buf[4096];
	for (;;) {
		char *end = h->rest.s ? strstr(h->rest.s, "\r\n\r\n") : NULL;
		if (end) {
			*head_len = (size_t)(end - h->rest.s) + 4;
			return 0;
		}
		if (h->rest.len > HEAD_MAX)
			return -EPROTO;
		ssize_t n = recv(h->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EAGAIN) {
			int r = wait_fd(h->fd, POLLIN);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			return -EPROTO;
		if (n > 0 && dcfs_strbuf_put(&h->rest, buf, (size_t)n) < 0)
			return -ENOMEM;
	}
}

/* A failed answer's body: Content-Length bytes (or what came, up to the end). */
static void read_error_body(engine_hijack *h, size_t head_len)
{
	const char *cl = strcasestr(h->rest.s, "\r\nContent-Length:");
	size_t want = cl && cl < h->rest.s + head_len ? strtoul(cl + 17, NULL, 10) : 4096;
	char buf[4096];
	while (h->rest.len - head_len < want && h->rest.len < HEAD_MAX) {
		if (wait_fd(h->fd, POLLIN) < 0)
			return;
		ssize_t n = recv(h->fd, buf, sizeof(buf), 0);
		if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
			return;
		if (n > 0 && dcfs_strbuf_put(&h->rest, buf, (size_t)n) < 0)
			return;
	}
}

static int send_request(engine_hijack *h, const char *path, const char *body)
{
	_cleanup_free_ char *req = NULL;
	int n = asprintf(&req,
			 "POST /v1.41%s HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\n"
			 "Upgrade: tcp\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 path, strlen(body), body);
	if (n < 0)
		return -ENOMEM;
	return engine_write_all(h->fd, req, (size_t)n);
}

int engine_hijack_open(dcfs_engine *en, const char *path, const char *body, const char *what,
		       engine_hijack *h, dcfs_error *e)
{
	*h = (engine_hijack){.fd = -1};
	int r = connect_only(en, h, what, e);
	if (r < 0)
		return r;
	size_t head_len = 0;
	r = send_request(h, path, body);
	if (r >= 0)
		r = read_head(h, &head_len);
	if (r < 0)
		return dcfs_error_set(e, r, "%s: %s: no answer to the upgrade (%s)", en->kind,
				      what, strerror(-r));
	long status = 0;
	if (sscanf(h->rest.s, "HTTP/1.%*d %ld", &status) != 1)
		return dcfs_error_set(e, EPROTO, "%s: %s: not an HTTP answer", en->kind, what);
	if (status != 101 && status != 200) {
		read_error_body(h, head_len);
		return engine_status_error(en, status, h->rest.s + head_len, what, e);
	}
	h->rest.len -= head_len;
	memmove(h->rest.s, h->rest.s + head_len, h->rest.len + 1);
	return 0;
}

void engine_hijack_close(engine_hijack *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->rest.s);
	*h = (engine_hijack){.fd = -1};
}
