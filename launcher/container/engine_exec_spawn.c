/* A command in an engine's container, run from a child process (see runtime.h): the lifecycle
 * commands and userEnvProbe wait for children and read pipes, whichever runs the container, so
 * on an engine the child is a fork of this process that asks the engine's API (its own
 * connection) to run the command and exits with the command's exit code. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "engine.h"
#include "runtime.h"

/* In the child: the command's exit code, or 125 with the engine's error on stderr. */
static int run_in_child(const dcfs_engine_target *t, const dcfs_user *user, const char *cwd,
			const cJSON *env, char *const *cmd, int in_fd)
{
	dcfs_error e = {0};
	dcfs_engine en = {0};
	char who[32];
	snprintf(who, sizeof(who), "%u:%u", user ? user->uid : 0, user ? user->gid : 0);
	dcfs_engine_exec_opts o = {.user = who, .workdir = cwd, .env = env, .cmd = cmd,
				   .in_fd = in_fd, .out_fd = 1, .err_fd = 2};
	int code = 125;
	int r = dcfs_engine_open(t->kind, t->host, &en, &e);
	if (r >= 0)
		r = dcfs_engine_exec(&en, t->id, &o, &code, &e);
	if (r < 0) {
		dprintf(2, "%s\n", e.msg ? e.msg : strerror(-r));
		code = 125;
	}
	dcfs_engine_close(&en);
	dcfs_error_clear(&e);
	return code;
}

int dcfs_engine_exec_spawn(const dcfs_engine_target *t, const dcfs_user *user, const char *cwd,
			   const cJSON *env, char *const *cmd, int in_fd, int out_fd, int err_fd,
			   pid_t *pid)
{
	fflush(NULL);
	pid_t p = fork();
	if (p < 0)
		return -errno;
	if (p == 0) {
		int null = out_fd < 0 || err_fd < 0 ? open("/dev/null", O_WRONLY) : -1;
		if (out_fd != 1 && dup2(out_fd < 0 ? null : out_fd, 1) < 0)
			_exit(125);
		if (err_fd != 2 && dup2(err_fd < 0 ? null : err_fd, 2) < 0)
			_exit(125);
		_exit(run_in_child(t, user, cwd, env, cmd, in_fd));
	}
	*pid = p;
	return 0;
}
