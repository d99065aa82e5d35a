/* A program's output relayed line by line with a prefix, its last lines kept (see
 * run_relayed.h). */
#include "run_relayed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "subprocess.h"

typedef struct relay {
	const dcfs_report *report;
	const char *prefix;
	dcfs_build_tail *tail;
	char line[DCFS_BUILD_LINE_MAX];
	size_t len;
} relay;

static void relay_line(relay *rl)
{
	if (rl->report && rl->report->output) {
		char out[256 + DCFS_BUILD_LINE_MAX + 1];
		int n = snprintf(out, sizeof(out), "%.255s%.*s\n", rl->prefix, (int)rl->len,
				 rl->line);
		dcfs_report_output(rl->report, out, (size_t)n);
	}
	dcfs_build_tail_add(rl->tail, rl->line, rl->len);
	rl->len = 0;
}

static void relay_bytes(relay *rl, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			relay_line(rl);
			continue;
		}
		if (rl->len == sizeof(rl->line) - 1) /* an overlong line goes on the next */
			relay_line(rl);
		rl->line[rl->len++] = buf[i];
	}
}

static void drain(int fd, relay *rl)
{
	char buf[8192];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			relay_bytes(rl, buf, (size_t)n);
	if (rl->len)
		relay_line(rl);
}

int dcfs_run_relayed(char *const argv[], const dcfs_report *report, const char *prefix,
		     dcfs_build_tail *tail)
{
	relay rl = {.report = report, .prefix = prefix, .tail = tail};
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid;
	int r = dcfs_spawn(argv, p[1], &pid);
	close(p[1]);
	if (r < 0) {
		close(p[0]);
		return r;
	}
	drain(p[0], &rl);
	close(p[0]);
	return dcfs_wait_code(pid);
}
