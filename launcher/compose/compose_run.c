/* Running the compose tool (compose.h): `TOOL -p PROJECT -f FILE... VERB ARGS...` with
 * DOCKER_HOST at the engine, its output relayed to the report as "[compose] ..." lines, and a
 * failure said in one line with the tool's last error line. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "compose.h"
#include "subprocess.h"

#define LINE_MAX_LEN 1024

typedef struct relay {
	const dcfs_report *report;
	char line[LINE_MAX_LEN];
	size_t len;
	char last[LINE_MAX_LEN]; /* the last line that looks like an error (or the last one) */
	bool last_is_error;
} relay;

static bool looks_like_error(const char *s)
{
	return strcasestr(s, "error") || strcasestr(s, "invalid") || strcasestr(s, "no such") ||
	       strcasestr(s, "not found") || strcasestr(s, "failed") || strcasestr(s, "unsupported");
}

static void relay_line(relay *rl)
{
	rl->line[rl->len] = '\0';
	if (rl->len && rl->report && rl->report->output) {
		char out[LINE_MAX_LEN + 16];
		int n = snprintf(out, sizeof(out), "[compose] %s\n", rl->line);
		dcfs_report_output(rl->report, out, (size_t)n);
	}
	bool err = looks_like_error(rl->line);
	if (rl->len && (err || !rl->last_is_error)) {
		snprintf(rl->last, sizeof(rl->last), "%s", rl->line);
		rl->last_is_error = err;
	}
	rl->len = 0;
}

static void drain(int fd, relay *rl)
{
	char buf[8192];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || rl->len == sizeof(rl->line) - 1)
				relay_line(rl);
			if (buf[i] != '\n')
				rl->line[rl->len++] = buf[i];
		}
	if (rl->len)
		relay_line(rl);
}

/* argv: the tool, -p, -f for each file, then `verb` and `args` (NULL-terminated). */
static char **make_argv(const dcfs_compose *c, const char *const *args)
{
	size_t n = 0, nargs = 0, nfiles = (size_t)cJSON_GetArraySize(c->files);
	while (c->tool[n])
		n++;
	while (args[nargs])
		nargs++;
	char **v = calloc(n + 2 + 2 * nfiles + nargs + 1, sizeof(char *));
	if (!v)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		v[k++] = c->tool[i];
	v[k++] = "-p";
	v[k++] = c->project;
	const cJSON *f;
	cJSON_ArrayForEach(f, c->files) v[k++] = "-f", v[k++] = f->valuestring;
	for (size_t i = 0; i < nargs; i++)
		v[k++] = (char *)args[i];
	return v;
}

/* Run the tool with `args` (verb first); 0, or -EIO with the tool's last error line. */
static int run(const dcfs_compose *c, const char *const *args, const dcfs_report *report,
	       dcfs_error *e)
{
	_cleanup_free_ char **argv = make_argv(c, args);
	if (!argv)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (c->engine && c->engine->host)
		setenv("DOCKER_HOST", c->engine->host, 1);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return dcfs_error_set(e, errno, "cannot make a pipe: %m");
	pid_t pid;
	_cleanup_free_ char *old = getcwd(NULL, 0);
	/* the tool runs in the first file's folder (relative paths and .env are the files') */
	int r = chdir(c->workdir) < 0 ? -errno : dcfs_spawn(argv, p[1], &pid);
	if (old && chdir(old) < 0)
		r = r < 0 ? r : -errno;
	close(p[1]);
	if (r < 0) {
		close(p[0]);
		return dcfs_error_set(e, -r, "cannot run %s: %s", c->tool[0], strerror(-r));
	}
	relay rl = {.report = report};
	drain(p[0], &rl);
	close(p[0]);
	int code = dcfs_wait_code(pid);
	if (code == 0)
		return 0;
	const char *tool = c->tool[1] ? "docker compose" : c->tool[0];
	return dcfs_error_set(e, EIO, "%s %s (project %s) failed with exit code %d: %s", tool,
			      args[0], c->project, code, rl.last[0] ? rl.last : "no output");
}

static bool podman_compose(const dcfs_compose *c)
{
	return !strcmp(c->tool[0], "podman-compose");
}

int dcfs_compose_up(const dcfs_compose *c, bool build, const dcfs_report *r, dcfs_error *e)
{
	size_t n = (size_t)cJSON_GetArraySize(c->run_services);
	_cleanup_free_ const char **args = calloc(n + 4, sizeof(char *));
	if (!args)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	size_t k = 0;
	args[k++] = "up";
	args[k++] = "-d";
	if (build)
		args[k++] = "--build";
	const cJSON *it;
	cJSON_ArrayForEach(it, c->run_services) if (cJSON_IsString(it)) args[k++] = it->valuestring;
	return run(c, args, r, e);
}

int dcfs_compose_stop(const dcfs_compose *c, const dcfs_report *r, dcfs_error *e)
{
	const char *args[] = {"stop", NULL};
	return run(c, args, r, e);
}

int dcfs_compose_down(const dcfs_compose *c, bool full, const dcfs_report *r, dcfs_error *e)
{
	const char *plain[] = {"down", NULL};
	const char *pc_full[] = {"down", "-v", NULL};
	const char *dc_full[] = {"down", "--volumes", "--rmi", "local", NULL};
	return run(c, !full ? plain : podman_compose(c) ? pc_full : dc_full, r, e);
}

int dcfs_compose_build(const dcfs_compose *c, bool full, const dcfs_report *r, dcfs_error *e)
{
	const char *plain[] = {"build", NULL};
	const char *fresh[] = {"build", "--pull", "--no-cache", NULL};
	return run(c, full ? fresh : plain, r, e);
}
