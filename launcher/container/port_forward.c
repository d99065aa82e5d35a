/* Starting and stopping the appPort relay (see port_forward.h). `up` binds the listeners
 * itself, so that a port in use is its error; then it forks the relay, which leaves `up`'s
 * session, keeps only the listeners and a pidfd of the container's process 1 (every other
 * descriptor closed: `up`'s lock, the catalog, its output pipes), and never returns. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "port_forward.h"

#define RELAY_NAME "dcfs-forward"

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* A listening socket on the mapping's host side: its address, or every address (IPv6 and
 * IPv4 on one socket when the host has IPv6, as docker-proxy listens). */
static int listen_on(const dcfs_port_map *m, const char *where, dcfs_error *e)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	if (!m->addr[0] || inet_pton(AF_INET6, m->addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6, in6->sin6_port = htons((uint16_t)m->host);
		len = sizeof(*in6);
	} else if (inet_pton(AF_INET, m->addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET, in4->sin_port = htons((uint16_t)m->host);
		len = sizeof(*in4);
	} else {
		return dcfs_error_set(e, EINVAL, "%s: appPort: '%s' is not an IP address", where,
				      m->addr);
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && !m->addr[0] && errno == EAFNOSUPPORT) { /* no IPv6: every IPv4 address */
		*in4 = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)m->host)};
		len = sizeof(*in4);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	int one = 1, zero = 0;
	if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
			(ss.ss_family == AF_INET6 && !m->addr[0] &&
			 setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0) ||
			bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0)) {
		int err = errno;
		close(fd);
		fd = -1;
		errno = err;
	}
	if (fd < 0)
		return dcfs_error_set(e, errno, "%s: appPort: cannot listen on port %d%s%s: %m", where,
				      m->host, m->addr[0] ? " of " : "", m->addr);
	return fd;
}

/* In the child: only the listeners and the pidfd (fds[n]) stay open, as 3, 4, ... */
static _Noreturn void relay_main(int *fds, size_t n, const dcfs_port_map *maps)
{
	setsid();
	prctl(PR_SET_NAME, RELAY_NAME);
	int devnull = open("/dev/null", O_RDWR);
	for (int i = 0; i < 3 && devnull >= 0; i++)
		dup2(devnull, i);
	/* first above anything they could collide with, then down to 3.. */
	for (size_t i = 0; i <= n; i++)
		fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 1024);
	for (size_t i = 0; i <= n; i++)
		fds[i] = dup3(fds[i], 3 + (int)i, O_CLOEXEC) < 0 ? -1 : 3 + (int)i;
	syscall(SYS_close_range, 4 + n, ~0U, 0);
	signal(SIGPIPE, SIG_IGN);
	_exit(dcfs_port_relay(fds, maps, n, fds[n]) < 0 ? 1 : 0);
}

/* From /proc/PID/stat ("PID (COMM) STATE ... STARTTIME ..."): its name, state and start time
 * (field 22, in clock ticks since boot). False when there is no such process. */
static bool proc_stat(pid_t pid, char comm[32], char *state, unsigned long long *start)
{
	char path[64], stat[1024] = "";
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f || !fgets(stat, sizeof(stat), f))
		return false;
	const char *lp = strchr(stat, '('), *rp = strrchr(stat, ')');
	if (!lp || !rp || rp < lp)
		return false;
	snprintf(comm, 32, "%.*s", (int)(rp - lp - 1), lp + 1);
	/* after ") ": the state (field 3), then fields 4 to 21, then the start time */
	return sscanf(rp + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			      "%*s %*s %llu",
		      state, start) == 2;
}

/* pid_file holds "PID STARTTIME": a pid reused since (after a reboot, say) is not the relay. */
static int write_pid(const char *pid_file, pid_t pid, dcfs_error *e)
{
	char comm[32], state, text[64];
	unsigned long long start = 0;
	if (!proc_stat(pid, comm, &state, &start))
		return dcfs_error_set(e, ESRCH, "appPort: the forwarder %d is gone", (int)pid);
	int len = snprintf(text, sizeof(text), "%d %llu\n", (int)pid, start);
	_cleanup_close_ int f = open(pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r = f < 0 ? -errno : dcfs_write_all(f, text, (size_t)len);
	return r < 0 ? dcfs_error_set(e, -r, "cannot write '%s': %s", pid_file, strerror(-r)) : 0;
}

int dcfs_port_forward_start(const dcfs_port_map *maps, size_t n, pid_t container_pid,
			    const char *pid_file, const char *where, dcfs_error *e)
{
	_cleanup_free_ int *fds = calloc(n + 1, sizeof(int));
	if (!fds)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i <= n; i++)
		fds[i] = -1;
	int r = 0;
	for (size_t i = 0; i < n && r >= 0; i++)
		r = fds[i] = listen_on(&maps[i], where, e);
	if (r >= 0 && (fds[n] = pidfd_of(container_pid)) < 0)
		r = dcfs_error_set(e, errno, "appPort: cannot watch the container's process %d: %m",
				   (int)container_pid);
	pid_t pid = r < 0 ? 0 : fork();
	if (pid == 0 && r >= 0)
		relay_main(fds, n, maps);
	if (pid < 0)
		r = dcfs_error_set(e, errno, "appPort: cannot start the forwarder: %m");
	for (size_t i = 0; i <= n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (r >= 0 && (r = write_pid(pid_file, pid, e)) < 0)
		kill(pid, SIGKILL);
	return r;
}

/* The relay's pid from `pid_file` when that process is the relay still (the same process, not
 * a reused pid) and has not exited (a zombie waiting for its new parent to reap it counts as
 * gone). */
static pid_t relay_pid(const char *pid_file)
{
	_cleanup_fclose_ FILE *f = fopen(pid_file, "re");
	int pid = 0;
	unsigned long long want = 0, start = 0;
	char comm[32], state = 0;
	if (!f || fscanf(f, "%d %llu", &pid, &want) != 2 || pid <= 0 ||
	    !proc_stat(pid, comm, &state, &start))
		return 0;
	return start == want && !strcmp(comm, RELAY_NAME) && state != 'Z' && state != 'X'
		       ? (pid_t)pid
		       : 0;
}

bool dcfs_port_forward_running(const char *pid_file)
{
	return relay_pid(pid_file) > 0;
}

int dcfs_port_forward_stop(const char *pid_file, dcfs_error *e)
{
	pid_t pid = relay_pid(pid_file);
	_cleanup_close_ int pfd = pid > 0 ? pidfd_of(pid) : -1;
	if (pfd >= 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		kill(pid, SIGTERM);
		if (poll(&p, 1, 5000) == 0) {
			kill(pid, SIGKILL);
			poll(&p, 1, 5000);
		}
	}
	if (unlink(pid_file) < 0 && errno != ENOENT)
		return dcfs_error_set(e, errno, "cannot remove '%s': %m", pid_file);
	return 0;
}
