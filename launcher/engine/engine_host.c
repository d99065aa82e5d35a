/* Where the engine listens and whether it answers: DOCKER_HOST parsing (unix:// sockets only),
 * each engine's default socket, and dcfs_engine_open/close (a GET /_ping on the kept handle). */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "engine_internal.h"

static const char *default_socket(const char *kind)
{
	return !strcmp(kind, "docker") ? "/var/run/docker.sock" : "/run/podman/podman.sock";
}

int dcfs_engine_host_socket(const char *kind, const char *host, const char *env_host,
			    char **socket, dcfs_error *e)
{
	const char *h = host ? host : env_host && *env_host ? env_host : NULL;
	if (!h) {
		*socket = strdup(default_socket(kind));
		return *socket ? 0 : -ENOMEM;
	}
	static const char unix_scheme[] = "unix://";
	if (strncmp(h, unix_scheme, strlen(unix_scheme)) || h[strlen(unix_scheme)] != '/') {
		size_t n = strcspn(h, "\n");
		return dcfs_error_set(e, EINVAL,
				      "DOCKER_HOST '%.*s': only unix:// sockets are supported",
				      (int)n, h);
	}
	*socket = strdup(h + strlen(unix_scheme));
	return *socket ? 0 : -ENOMEM;
}

static int ping(dcfs_engine *en, dcfs_error *e)
{
	dcfs_strbuf b = {0};
	long status = 0;
	int r = engine_request(en, "GET", "/_ping", NULL, NULL, &b, &status, "ping", e);
	free(b.s);
	if (r < 0 && !strcmp(en->kind, "docker"))
		return dcfs_error_set(e, r, "docker: nothing answers at %s (start the engine: dockerd)",
				      en->socket);
	if (r < 0)
		return dcfs_error_set(e, r,
				      "podman: nothing answers at %s (start the engine: podman system "
				      "service --time=0 unix://%s)",
				      en->socket, en->socket);
	if (status != 200)
		return dcfs_error_set(e, EIO, "%s: %s answers /_ping with HTTP status %ld",
				      en->kind, en->socket, status);
	return 0;
}

int dcfs_engine_open(const char *kind, const char *host, dcfs_engine *out, dcfs_error *e)
{
	*out = (dcfs_engine){0};
	if (!kind || (strcmp(kind, "podman") && strcmp(kind, "docker")))
		return dcfs_error_set(e, EINVAL, "engine '%s': not podman or docker",
				      kind ? kind : "");
	int r = dcfs_engine_host_socket(kind, host, getenv("DOCKER_HOST"), &out->socket, e);
	if (r < 0)
		return r;
	out->kind = strdup(kind);
	if (asprintf(&out->host, "unix://%s", out->socket) < 0)
		out->host = NULL;
	out->curl = curl_easy_init();
	if (!out->kind || !out->host || !out->curl) {
		dcfs_engine_close(out);
		return dcfs_error_set(e, ENOMEM, "%s: out of memory", kind);
	}
	r = ping(out, e);
	if (r < 0)
		dcfs_engine_close(out);
	return r;
}

void dcfs_engine_close(dcfs_engine *en)
{
	if (en->curl)
		curl_easy_cleanup(en->curl);
	free(en->kind);
	free(en->host);
	free(en->socket);
	*en = (dcfs_engine){0};
}
