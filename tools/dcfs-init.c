/* dcfs-init: process 1 of a dev container that asks for `init` (devcontainer.json "init": true
 * or runArgs --init), as docker-init (tini) is for `docker run --init`.
 *
 *   /.dcfs/init CMD [ARG...]
 *
 * It runs CMD as its child, forwards every signal it gets to it, reaps every process that ends
 * (orphans are re-parented to process 1 of the container's PID namespace, and a shell as
 * process 1 would leave them zombies) and exits as CMD does (128+N when a signal N ended it).
 *
 * Built statically on its own (not with the sanitizers of the rest), since it runs inside
 * images that may have no C library at all; `up` binds it read-only at /.dcfs/init. Signals
 * stay blocked and are taken with sigwaitinfo: a blocked signal reaches process 1 of a PID
 * namespace even without a handler, where an unhandled one would be dropped. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t start(char **argv, const sigset_t *mask)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	sigprocmask(SIG_SETMASK, mask, NULL);
	execvp(argv[0], argv);
	fprintf(stderr, "dcfs-init: cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Reap what has ended; 1 with *status set once `child` has. */
static int reap(pid_t child, int *status)
{
	int done = 0, st;
	for (pid_t pid; (pid = waitpid(-1, &st, WNOHANG)) > 0;)
		if (pid == child) {
			*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			done = 1;
		}
	return done;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: dcfs-init CMD [ARG...]\n", stderr);
		return 2;
	}
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t child = start(argv + 1, &old);
	if (child < 0) {
		fprintf(stderr, "dcfs-init: fork: %s\n", strerror(errno));
		return 1;
	}
	for (int status = 0;;) {
		siginfo_t info;
		int sig = sigwaitinfo(&all, &info);
		if (sig == SIGCHLD) {
			if (reap(child, &status))
				return status;
		} else if (sig > 0) {
			kill(child, sig);
		}
	}
}
