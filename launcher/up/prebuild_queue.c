/* The prebuild request queue (see prebuild_queue.h). */
#include "prebuild_queue.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

static int open_locked(const char *path, int *fd, dcfs_error *e)
{
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return dcfs_error_set(e, errno, "cannot open '%s': %m", path);
	if (flock(*fd, LOCK_EX) < 0) {
		int r = dcfs_error_set(e, errno, "cannot lock '%s': %m", path);
		close(*fd);
		*fd = -1;
		return r;
	}
	return 0;
}

/* Under the queue's lock: read the counters; with `take`, issue a ticket that becomes the latest. */
static int counters(const char *path, bool take, uint64_t *mine, uint64_t *latest, dcfs_error *e)
{
	_cleanup_close_ int fd = -1;
	int r = open_locked(path, &fd, e);
	if (r < 0)
		return r;
	char buf[64] = {0};
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	uint64_t issued = 0, last = 0;
	if (n > 0)
		sscanf(buf, "%" SCNu64 " %" SCNu64, &issued, &last);
	if (take) {
		*mine = last = ++issued;
		int len = snprintf(buf, sizeof(buf), "%" PRIu64 " %" PRIu64 "\n", issued, last);
		if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len)
			return dcfs_error_set(e, errno, "cannot write '%s': %m", path);
	}
	*latest = last;
	return 0;
}

int dcfs_prebuild_queue_wait(dcfs_store *s, const char *key, int *run_fd, dcfs_error *e)
{
	*run_fd = -1;
	_cleanup_free_ char *root = realpath(s->root, NULL), *dir = NULL, *queue = NULL, *run = NULL;
	if (!root || asprintf(&dir, "%s/run/prebuild", root) < 0 ||
	    asprintf(&queue, "%s/%s.queue", dir, key) < 0 || asprintf(&run, "%s/%s.run", dir, key) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int r = dcfs_mkdir_p(dir, 0700);
	if (r < 0)
		return dcfs_error_set(e, r, "cannot create '%s': %s", dir, strerror(-r));
	uint64_t mine = 0, latest = 0;
	r = counters(queue, true, &mine, &latest, e);
	if (r < 0)
		return r;
	int fd;
	if ((r = open_locked(run, &fd, e)) < 0)
		return r;
	if ((r = counters(queue, false, &mine, &latest, e)) < 0) {
		close(fd);
		return r;
	}
	if (latest != mine) {
		close(fd);
		return 0;
	}
	*run_fd = fd;
	return 1;
}
