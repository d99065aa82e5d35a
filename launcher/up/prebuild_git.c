/* Asking git about a folder's checkout (see prebuild_git.h). */
#include "prebuild_git.h"

#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "runtime.h"

/* git's output on `fd` until it closes: at most `size - 1` bytes kept, the rest read and
 * dropped (git must not block); *more says whether some was dropped. */
static size_t read_all(int fd, char *buf, size_t size, bool *more)
{
	size_t len = 0;
	*more = false;
	for (;;) {
		char skip[256];
		bool full = len == size - 1;
		ssize_t n = full ? read(fd, skip, sizeof(skip)) : read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (full)
			*more = true;
		else
			len += (size_t)n;
	}
	buf[len] = 0;
	return len;
}

/* `git -C folder ARGS...` (as root over folders others own: no "dubious ownership" refusal);
 * its output in buf. Returns its exit status, -ENOENT when there is no git, another -errno when
 * it could not be run. */
static int run_git(const char *folder, const char *const *args, char *buf, size_t size,
		   size_t *len, bool *more)
{
	char *argv[16] = {"git", "--literal-pathspecs", "-c", "safe.directory=*", "-C",
			  (char *)folder};
	size_t n = 6;
	for (size_t i = 0; args[i] && n < ELEMENTSOF(argv) - 1; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	_cleanup_close_ int rd = p[0];
	_cleanup_close_ int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid_t pid;
	int r = devnull < 0 ? -errno : dcfs_spawn_fds(argv, p[1], devnull, &pid);
	close(p[1]);
	if (r < 0)
		return r;
	*len = read_all(rd, buf, size, more);
	int status = dcfs_wait(pid);
	if (status < 0)
		return status;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

int dcfs_git_tree(const char *folder, char out[72], dcfs_error *e)
{
	out[0] = 0;
	static const char *const args[] = {"rev-parse", "--verify", "--quiet", "HEAD^{tree}", NULL};
	char buf[128];
	size_t len = 0;
	bool more;
	int r = run_git(folder, args, buf, sizeof(buf), &len, &more);
	if (r == -ENOENT || r > 0)
		return 0; /* no git, no repository, or no commit */
	if (r < 0)
		return dcfs_error_set(e, -r, "cannot run git: %s", strerror(-r));
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = 0;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)buf[i]))
			return 0;
	if (more || len < 40 || len > 71)
		return 0;
	memcpy(out, buf, len + 1);
	return 0;
}

bool dcfs_git_file_clean(const char *folder, const char *path)
{
	/* tracked and unchanged: nothing to say, not even "??" (untracked) or "!!" (ignored) */
	const char *const args[] = {"status", "--porcelain", "--ignored", "--untracked-files=all",
				    "--", path, NULL};
	char buf[8];
	size_t len = 0;
	bool more;
	if (run_git(folder, args, buf, sizeof(buf), &len, &more) != 0 || len > 0)
		return false;
	const char *const tracked[] = {"ls-files", "--error-unmatch", "--", path, NULL};
	return run_git(folder, tracked, buf, sizeof(buf), &len, &more) == 0;
}
