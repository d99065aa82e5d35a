/* The per-mount record of what a dcfs daemon negotiated (see mount_state.h). */
#include "mount_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mount.h"

#include "cleanup.h"
#include "daemon_log.h"

bool dcfs_mount_uses_io_uring(const struct fuse_conn_info *conn)
{
#ifdef FUSE_CAP_OVER_IO_URING
	/* dcfs_mount_serve asks for it; libfuse wants it by default when the kernel offers it */
	return (conn->capable_ext & conn->want_ext & FUSE_CAP_OVER_IO_URING) != 0;
#else
	return false;
#endif
}

/* Field 22 of /proc/PID/stat, the process's start time: with the pid, names one process (a
 * pid alone may have been reused since a killed daemon wrote its record). 0 when unknown. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f))
		return 0;
	const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long long t = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &t) != 1)
		return 0;
	return t;
}

static char state_path[128]; /* empty: nothing to publish */
static char state_mnt[4096];

static void unescape(char *s)
{
	char *out = s;
	for (const char *in = s; *in; out++) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
		    in[3] >= '0' && in[3] <= '7') {
			*out = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
			in += 4;
		} else {
			*out = *in++;
		}
	}
	*out = '\0';
}

bool dcfs_mountinfo_parse(const char *line, dcfs_mountinfo_line *m)
{
	const char *sep = strstr(line, " - ");
	if (!sep || sscanf(line, "%*s %*s %31s %*s %4095s", m->dev, m->mountpoint) != 2 ||
	    sscanf(sep + 3, "%63s", m->fstype) != 1)
		return false;
	unescape(m->mountpoint);
	return true;
}

void dcfs_mount_state_begin(const char *mountpoint)
{
	_cleanup_free_ char *real = realpath(mountpoint, NULL);
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!real || !f || strchr(real, '\n'))
		return;
	char *line = NULL, dev[32] = "";
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		dcfs_mountinfo_line m;
		if (dcfs_mountinfo_parse(line, &m) && !strcmp(m.mountpoint, real))
			snprintf(dev, sizeof(dev), "%s", m.dev); /* the last mount there is ours */
	}
	free(line);
	if (!dev[0])
		return;
	snprintf(state_path, sizeof(state_path), "%s/%s", DCFS_MOUNT_STATE_DIR, dev);
	snprintf(state_mnt, sizeof(state_mnt), "%s", real);
}

void dcfs_mount_state_publish(const char *view, const char *mode, const char *features,
			      unsigned proto_major, unsigned proto_minor)
{
	if (!state_path[0])
		return;
	mkdir("/run/dcfs", 0755);
	mkdir(DCFS_MOUNT_STATE_DIR, 0755);
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.%d", state_path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	_cleanup_fclose_ FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		dcfs_daemon_log(FUSE_LOG_WARNING, "cannot write %s: %m", tmp);
		return;
	}
	fprintf(f, "pid %d\nstart %llu\nview %s\nmode %s\nfeatures %s\nlibfuse %s\nprotocol %u.%u\n"
		   "mountpoint %s\n",
		(int)getpid(), start_time(getpid()), view, mode, features, fuse_pkgversion(),
		proto_major, proto_minor, state_mnt);
	if (fflush(f) != 0 || rename(tmp, state_path) < 0) {
		dcfs_daemon_log(FUSE_LOG_WARNING, "cannot write %s: %m", state_path);
		unlink(tmp);
	}
}

void dcfs_mount_state_end(void)
{
	if (!state_path[0])
		return;
	/* only our own record: a later mount may have taken the number */
	dcfs_mount_state st;
	const char *dev = strrchr(state_path, '/') + 1;
	if (dcfs_mount_state_read(dev, &st) && st.pid == getpid())
		unlink(state_path);
	state_path[0] = '\0';
}

static void field(char *dst, size_t size, const char *v)
{
	snprintf(dst, size, "%s", v);
}

bool dcfs_mount_state_read(const char *dev, dcfs_mount_state *st)
{
	memset(st, 0, sizeof(*st));
	if (strchr(dev, '/'))
		return false;
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", DCFS_MOUNT_STATE_DIR, dev);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return false;
	field(st->dev, sizeof(st->dev), dev);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long long start = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		char *v = strchr(line, ' ');
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "pid"))
			st->pid = (pid_t)atoi(v);
		else if (!strcmp(line, "start"))
			start = strtoull(v, NULL, 10);
		else if (!strcmp(line, "view"))
			field(st->view, sizeof(st->view), v);
		else if (!strcmp(line, "mode"))
			field(st->mode, sizeof(st->mode), v);
		else if (!strcmp(line, "features"))
			field(st->features, sizeof(st->features), v);
		else if (!strcmp(line, "libfuse"))
			field(st->libfuse, sizeof(st->libfuse), v);
		else if (!strcmp(line, "protocol"))
			field(st->protocol, sizeof(st->protocol), v);
		else if (!strcmp(line, "mountpoint"))
			field(st->mountpoint, sizeof(st->mountpoint), v);
	}
	free(line);
	return st->pid > 0 && start && start_time(st->pid) == start;
}
