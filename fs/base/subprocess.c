/* Child processes (see subprocess.h), started with posix_spawnp. */
#include "subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include "cleanup.h"

extern char **environ;

int dcfs_spawn_fds(char *const *argv, int out_fd, int err_fd, pid_t *pid)
{
	_cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return -errno;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (err_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	int r = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return -r;
}

int dcfs_spawn(char *const *argv, int out_fd, pid_t *pid)
{
	return dcfs_spawn_fds(argv, out_fd, out_fd, pid);
}

int dcfs_wait(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status;
}

int dcfs_wait_code(pid_t pid)
{
	int status = dcfs_wait(pid);
	if (status < 0)
		return status;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int dcfs_spawn_wait(char *const *argv, int out_fd)
{
	pid_t pid;
	int r = dcfs_spawn(argv, out_fd, &pid);
	return r < 0 ? r : dcfs_wait(pid);
}
