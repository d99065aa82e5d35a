/* Running a builder's command for what it prints (`podman image inspect`, `docker version`):
 * its standard output collected through a pipe with an optional time limit, its standard error
 * kept in a memory file so that a failure can be said with the builder's own last line. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "build_internal.h"
#include "cleanup.h"
#include "grow.h"
#include "subprocess.h"

const char *dcfs_build_program(dcfs_builder_kind k)
{
	return k == DCFS_BUILDER_BUILDAH ? "buildah" : k == DCFS_BUILDER_DOCKER ? "docker" : "podman";
}

bool dcfs_build_on_path(const char *prog)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		_cleanup_free_ char *full = NULL;
		if (len && asprintf(&full, "%.*s/%s", (int)len, path, prog) >= 0 &&
		    access(full, X_OK) == 0)
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Everything the pipe `fd` gives until its end, or -ETIMEDOUT past `deadline` (0: none). */
static int collect(int fd, long long deadline, char **out)
{
	size_t len = 0, cap = 0;
	for (;;) {
		if (DCFS_GROW(*out, cap, len + 4096, 8192) < 0)
			return -ENOMEM;
		int wait = deadline ? (int)(deadline - now_ms()) : -1;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = deadline && wait <= 0 ? 0 : poll(&p, 1, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ETIMEDOUT;
		ssize_t n = read(fd, *out + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			(*out)[len] = 0;
			return n < 0 ? -errno : 0;
		}
		len += (size_t)n;
	}
}

/* The last non-empty line of the memory file `fd`, in `buf`. */
static const char *last_line(int fd, char *buf, size_t size)
{
	off_t end = lseek(fd, 0, SEEK_END);
	off_t start = end > (off_t)size - 1 ? end - (off_t)size + 1 : 0;
	ssize_t n = pread(fd, buf, (size_t)(end - start), start);
	buf[n > 0 ? n : 0] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = 0;
	char *nl = strrchr(buf, '\n');
	return nl ? nl + 1 : buf;
}

int dcfs_build_capture(char *const argv[], int timeout_ms, char **out, dcfs_error *e)
{
	*out = NULL;
	int p[2];
	_cleanup_close_ int err_fd = memfd_create("build-stderr", MFD_CLOEXEC);
	if (err_fd < 0 || pipe2(p, O_CLOEXEC) < 0)
		return dcfs_error_set(e, errno, "%s: %m", argv[0]);
	pid_t pid;
	int sr = dcfs_spawn_fds(argv, p[1], err_fd, &pid);
	close(p[1]);
	if (sr < 0) {
		close(p[0]);
		return dcfs_error_set(e, sr, "cannot run %s: %s", argv[0], strerror(-sr));
	}
	int r = collect(p[0], timeout_ms ? now_ms() + timeout_ms : 0, out);
	close(p[0]);
	if (r < 0)
		kill(pid, SIGKILL);
	int code = dcfs_wait_code(pid);
	if (r == -ETIMEDOUT)
		return dcfs_error_set(e, ETIMEDOUT, "%s %s did not answer within %d s", argv[0],
				      argv[1] ? argv[1] : "", timeout_ms / 1000);
	if (r >= 0 && code != 0) {
		char line[1024];
		r = dcfs_error_set(e, EIO, "%s %s: %s", argv[0], argv[1] ? argv[1] : "",
				   last_line(err_fd, line, sizeof(line)));
	}
	if (r < 0) {
		free(*out);
		*out = NULL;
		return e && e->code ? r : dcfs_error_set(e, -r, "%s: %s", argv[0], strerror(-r));
	}
	return 0;
}

int dcfs_build_read_file(const char *path, size_t max, char **out, size_t *len, dcfs_error *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dcfs_error_set(e, errno, "cannot open '%s': %m", path);
	_cleanup_free_ char *buf = malloc(max + 1);
	if (!buf)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	size_t n = 0;
	for (;;) {
		ssize_t got = read(fd, buf + n, max + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return dcfs_error_set(e, errno, "cannot read '%s': %m", path);
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > max)
			return dcfs_error_set(e, EFBIG, "'%s' is larger than %zu bytes", path, max);
	}
	buf[n] = 0;
	if (len)
		*len = n;
	*out = TAKE_PTR(buf);
	return 0;
}
