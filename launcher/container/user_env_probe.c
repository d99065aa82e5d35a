/* Running userEnvProbe's shell in a container (see user_env_probe.h): `runc exec` of the user's
 * shell with the mode's flags, its output read until runc exits or the time limit passes. runc
 * starts the process in a session of its own, so a shell that hangs is killed with everything
 * it started (its session), found by the process id runc writes to the pid file. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/pidfd.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "jsonc.h"
#include "user_env_probe.h"

#define MAX_OUTPUT (8 << 20)

typedef struct output {
	char *buf;
	size_t len, cap;
} output;

/* A random marker of 32 hex digits. */
static int make_marker(char out[33])
{
	unsigned char raw[16];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -errno;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* `runc exec --pid-file FILE ...` of `shell flags script`: a vector of pointers into `owned`
 * (free that with dcfs_argv_free), or NULL when out of memory. */
static char **probe_argv(const dcfs_user_env_probe *p, const char *script, char ***owned)
{
	char *cmd[] = {(char *)p->shell, (char *)p->flags, (char *)script, NULL};
	*owned = dcfs_runc_exec_argv(p->runc, p->id, p->user, p->cwd, NULL, false, cmd);
	size_t n = 0;
	while (*owned && (*owned)[n])
		n++;
	char **v = *owned ? calloc(n + 3, sizeof(char *)) : NULL;
	if (!v)
		return NULL;
	/* runc --root ROOT exec [--pid-file FILE] ... */
	for (size_t i = 0, j = 0; i < n; i++) {
		v[j++] = (*owned)[i];
		if (i == 3)
			v[j++] = "--pid-file", v[j++] = (char *)p->pid_file;
	}
	return v;
}

/* Read what is there (the descriptor is non-blocking): 1 at the end of the output, 0 when
 * more may come, -errno. Beyond MAX_OUTPUT bytes the rest is read and dropped. */
static int read_some(int fd, output *o)
{
	for (;;) {
		if (o->cap - o->len < 4096) {
			size_t cap = o->cap ? o->cap * 2 : 65536;
			char *grown = cap <= MAX_OUTPUT ? realloc(o->buf, cap) : NULL;
			if (grown)
				o->buf = grown, o->cap = cap;
		}
		char scratch[4096];
		bool room = o->cap - o->len >= 4096;
		ssize_t n = read(fd, room ? o->buf + o->len : scratch, 4096);
		if (n == 0)
			return 1;
		if (n < 0)
			return errno == EAGAIN ? 0 : errno == EINTR ? read_some(fd, o) : -errno;
		if (room)
			o->len += (size_t)n;
	}
}

static long ms_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Collect the output of `pid` (runc exec) from `rd` until it exits: 0, or -ETIMEDOUT when
 * `timeout_ms` passed first. A process the shell left behind may keep the pipe open: runc's
 * exit ends the wait, not the pipe's end. */
static int collect(pid_t pid, int rd, int timeout_ms, output *o)
{
	_cleanup_close_ int pidfd = (int)pidfd_open(pid, 0);
	if (pidfd < 0)
		return -errno;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	bool pipe_open = true;
	for (;;) {
		long left = timeout_ms - ms_since(&start);
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd fds[2] = {{.fd = pidfd, .events = POLLIN},
					{.fd = pipe_open ? rd : -1, .events = POLLIN}};
		int n = poll(fds, 2, (int)left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && pipe_open && (fds[1].revents & (POLLIN | POLLHUP))) {
			int r = read_some(rd, o);
			if (r < 0)
				return r;
			pipe_open = r == 0;
		}
		if (n > 0 && (fds[0].revents & POLLIN))
			return pipe_open ? (read_some(rd, o) < 0 ? -EIO : 0) : 0;
	}
}

/* SIGKILL every process of session `sid` (the probe's shell and what it started). */
static void kill_session(pid_t sid)
{
	kill(-sid, SIGKILL); /* its process group, at once */
	_cleanup_closedir_ DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char path[300], line[512];
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, line, sizeof(line) - 1);
		if (n <= 0)
			continue;
		line[n] = '\0';
		/* pid (comm) state ppid pgrp session ... */
		const char *rest = strrchr(line, ')');
		int session;
		if (rest && sscanf(rest + 1, " %*c %*d %*d %d", &session) == 1 && session == sid)
			kill(atoi(de->d_name), SIGKILL);
	}
}

/* After a time-out: kill the shell's session in the container, then runc exec itself. */
static void stop_probe(const dcfs_user_env_probe *p, pid_t runc_pid)
{
	char text[32] = "";
	_cleanup_close_ int fd = open(p->pid_file, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : dcfs_read_full(fd, text, sizeof(text) - 1);
	pid_t shell = n > 0 ? (pid_t)atoi(text) : 0;
	if (shell > 1) {
		kill(shell, SIGKILL); /* should runc ever not make it a session leader */
		kill_session(shell);
	}
	kill(runc_pid, SIGKILL);
	while (waitpid(runc_pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void argv_freep(char ***v)
{
	dcfs_argv_free(*v);
}

/* One run of `script` through the shell: 0 with the output in *o, -ETIMEDOUT, -errno. */
static int run_once(const dcfs_user_env_probe *p, const char *script, output *o)
{
	_cleanup_(argv_freep) char **owned = NULL;
	_cleanup_free_ char **argv = probe_argv(p, script, &owned);
	if (!argv)
		return -ENOMEM;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	_cleanup_close_ int rd = fds[0];
	unlink(p->pid_file);
	_cleanup_close_ int devnull = p->err_fd < 0 ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
	pid_t pid;
	int err = p->err_fd >= 0 ? p->err_fd : devnull;
	char *cmd[] = {(char *)p->shell, (char *)p->flags, (char *)script, NULL};
	/* on an engine the shell left behind by a time-out stays: only the child is killed */
	int r = p->runc->engine ? dcfs_engine_exec_spawn(p->runc->engine, p->user, p->cwd, NULL, cmd,
							 -1, fds[1], err, &pid)
				: dcfs_spawn_fds(argv, fds[1], err, &pid);
	close(fds[1]);
	if (r < 0)
		return r;
	fcntl(rd, F_SETFL, O_NONBLOCK);
	r = collect(pid, rd, p->timeout_ms, o);
	if (r == -ETIMEDOUT)
		stop_probe(p, pid);
	else
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	unlink(p->pid_file);
	return r;
}

/* What the reference does with a probe's result: PWD is gone already (parse), PATH is merged
 * with the container's. */
static int merge_path(const dcfs_user_env_probe *p, cJSON *env)
{
	const cJSON *it;
	const char *path = NULL;
	cJSON_ArrayForEach(it, env) if (!strncmp(it->valuestring, "PATH=", 5))
		path = it->valuestring + 5;
	if (!path || !*path || !p->container_path || !*p->container_path)
		return 0; /* as the reference: no merge without both */
	bool root = p->user->uid == 0;
	_cleanup_free_ char *merged = dcfs_user_env_merge_path(path, p->container_path, root);
	return merged ? dcfs_env_set(env, "PATH", merged) : -ENOMEM;
}

int dcfs_user_env_probe_run(const dcfs_user_env_probe *p, cJSON **env, dcfs_error *e)
{
	*env = NULL;
	static const struct {
		const char *print;
		char sep;
	} ways[] = {{"cat /proc/self/environ", '\0'}, {"printenv", '\n'}};
	char marker[33];
	int r = make_marker(marker);
	for (size_t i = 0; r >= 0 && !*env && i < ELEMENTSOF(ways); i++) {
		_cleanup_free_ char *script = NULL;
		if (asprintf(&script, "echo -n %s; %s; echo -n %s", marker, ways[i].print, marker) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		output o = {0};
		r = run_once(p, script, &o);
		if (r >= 0)
			*env = dcfs_user_env_parse(o.buf ? o.buf : "", o.len, marker, ways[i].sep);
		free(o.buf);
	}
	if (r == -ETIMEDOUT)
		return dcfs_error_set(e, ETIMEDOUT,
				      "'%s %s' did not finish within %d s (does a startup file such as "
				      "/etc/profile wait for input?)",
				      p->shell, p->flags, p->timeout_ms / 1000);
	if (r < 0)
		return dcfs_error_set(e, r, "cannot run '%s %s' through runc: %s", p->shell,
				      p->flags, strerror(-r));
	if (!*env)
		return dcfs_error_set(e, ENODATA, "'%s %s' printed no environment", p->shell,
				      p->flags);
	if ((r = merge_path(p, *env)) < 0) {
		cJSON_Delete(*env), *env = NULL;
		return dcfs_error_set(e, r, "out of memory");
	}
	return 0;
}
