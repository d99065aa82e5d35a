/* `dcfs exec`'s runc as a child: its stderr relayed without runc's own error line, signals
 * passed on (see runc_exec.h). */
#include "runc_exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

extern char **environ;

static const int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

/* One signal from `sfd` to runc, unless the terminal sent it (runc, in our process group, got
 * it too). */
static void forward_signal(int sfd, pid_t pid)
{
	struct signalfd_siginfo si;
	if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_code != SI_KERNEL)
		kill(pid, (int)si.ssi_signo);
}

/* Copy runc's stderr to ours until it ends, less runc's own error line, passing signals on. */
static void pump(int in, int sfd, pid_t pid, const dcfs_runc_log *log)
{
	char buf[65536];
	struct pollfd fds[2] = {{.fd = in, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (fds[1].revents & POLLIN)
			forward_signal(sfd, pid);
		if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		/* a closed stderr does not stop the command: keep draining */
		(void)dcfs_write_all(2, buf, dcfs_runc_log_trim(log, 1, buf, (size_t)n));
	}
}

/* Start runc with the signal mask we had (`old`) and stderr to `err_fd`. */
static int start(char *const *argv, const sigset_t *old, const sigset_t *fwd, int err_fd,
		 pid_t *pid)
{
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, old);
	posix_spawnattr_setsigdefault(&attr, fwd);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	int r = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -r;
}

static int relay(char *const *argv, const dcfs_runc_log *log, const sigset_t *fwd,
		 const sigset_t *old, dcfs_error *e)
{
	_cleanup_close_ int sfd = signalfd(-1, fwd, SFD_CLOEXEC | SFD_NONBLOCK);
	int p[2];
	if (sfd < 0 || pipe2(p, O_CLOEXEC) < 0)
		return dcfs_error_set(e, errno, "cannot run runc: %m");
	_cleanup_close_ int in = p[0];
	pid_t pid;
	int r = start(argv, old, fwd, p[1], &pid);
	close(p[1]);
	if (r < 0)
		return dcfs_error_set(e, r, "cannot run runc: %s (apt-get install runc)", strerror(-r));
	pump(in, sfd, pid, log);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return dcfs_error_set(e, errno, "cannot wait for runc: %m");
	/* what came after runc's end is not delivered when the mask is restored */
	struct signalfd_siginfo si;
	while (read(sfd, &si, sizeof(si)) == sizeof(si))
		;
	return status;
}

int dcfs_runc_exec_relay(char *const *argv, const dcfs_runc_log *log, dcfs_error *e)
{
	sigset_t fwd, old;
	sigemptyset(&fwd);
	for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
		sigaddset(&fwd, forwarded[i]);
	if (sigprocmask(SIG_BLOCK, &fwd, &old) < 0)
		return dcfs_error_set(e, errno, "cannot block signals: %m");
	int r = relay(argv, log, &fwd, &old, e);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}
