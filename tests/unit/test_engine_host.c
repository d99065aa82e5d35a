/* Where an engine is reached: DOCKER_HOST's unix:// sockets taken, every other scheme refused by
 * name, each engine's default socket. */
#include <errno.h>
#include <stdlib.h>

#include "engine.h"
#include "tap.h"

static void socket_is(const char *kind, const char *host, const char *env, const char *want)
{
	char *s = NULL;
	dcfs_error e = {0};
	int r = dcfs_engine_host_socket(kind, host, env, &s, &e);
	if (!tap_result(r == 0 && s && !strcmp(s, want), __FILE__, __LINE__, "%s %s (env %s): %s",
			kind, host ? host : "(none)", env ? env : "(unset)", want))
		tap_diag("  r=%d socket=%s: %s", r, s ? s : "(none)", e.msg ? e.msg : "");
	free(s);
	dcfs_error_clear(&e);
}

static void refused(const char *host, const char *env)
{
	char *s = NULL;
	dcfs_error e = {0};
	int r = dcfs_engine_host_socket("docker", host, env, &s, &e);
	const char *named = host ? host : env;
	bool ok = r == -EINVAL && !s && e.msg && strstr(e.msg, named) &&
		  strstr(e.msg, "only unix:// sockets are supported");
	if (!tap_result(ok, __FILE__, __LINE__, "%s is refused", named))
		tap_diag("  r=%d: %s", r, e.msg ? e.msg : "(no message)");
	free(s);
	dcfs_error_clear(&e);
}

int main(void)
{
	socket_is("podman", NULL, NULL, "/run/podman/podman.sock");
	socket_is("docker", NULL, NULL, "/var/run/docker.sock");
	socket_is("docker", NULL, "", "/var/run/docker.sock");
	socket_is("podman", "unix:///tmp/x/podman.sock", NULL, "/tmp/x/podman.sock");
	socket_is("docker", NULL, "unix:///run/user/0/docker.sock", "/run/user/0/docker.sock");
	socket_is("docker", "unix:///a.sock", "unix:///b.sock", "/a.sock");
	refused("tcp://127.0.0.1:2375", NULL);
	refused(NULL, "ssh://me@host");
	refused("npipe:////./pipe/docker_engine", NULL);
	refused("unix://relative.sock", NULL);
	refused("/var/run/docker.sock", NULL);
	refused("http://d", NULL);
	return tap_done();
}
