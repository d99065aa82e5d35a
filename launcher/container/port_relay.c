/* The relay of appPort mappings (see port_forward.h): one poll loop over the listeners, the
 * container's pidfd and every connection's two sockets. Each connection holds one fixed buffer
 * per direction (its memory is bounded); at most MAX_CONNS are open at once, further clients
 * wait in the listeners' backlog. A side that finishes sending is shut down for writing on the
 * other (half-close passes through); an error on either side closes both. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port_forward.h"

#define MAX_CONNS 256
#define BUF_SIZE 16384

typedef struct half {
	char buf[BUF_SIZE];
	size_t off, len;
	bool eof, shut;
} half;

/* fd[0] the client, fd[1] the container's server; h[i] carries what fd[i] sends. */
typedef struct conn {
	int fd[2];
	bool connecting;
	half h[2];
} conn;

static void conn_close(conn **slot)
{
	close((*slot)->fd[0]);
	close((*slot)->fd[1]);
	free(*slot);
	*slot = NULL;
}

static void conn_open(conn **slot, int listener, int port)
{
	int client = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (client < 0)
		return;
	int server = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	conn *c = server >= 0 ? calloc(1, sizeof(*c)) : NULL;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (!c || (connect(server, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS)) {
		free(c);
		close(client);
		if (server >= 0)
			close(server);
		return;
	}
	*c = (conn){.fd = {client, server}, .connecting = true};
	*slot = c;
}

/* What to wait for on c->fd[i]. */
static short wanted(const conn *c, int i)
{
	if (c->connecting)
		return i == 1 ? POLLOUT : 0;
	short ev = 0;
	if (!c->h[i].eof && c->h[i].len == 0)
		ev |= POLLIN;
	if (c->h[1 - i].len > 0)
		ev |= POLLOUT;
	return ev;
}

/* Move what fd[i] sent on to fd[1 - i]; false when the connection is to close. */
static bool pump(conn *c, int i, short revents)
{
	half *h = &c->h[i];
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !h->eof && h->len == 0) {
		ssize_t n = recv(c->fd[i], h->buf, sizeof(h->buf), 0);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		h->off = 0;
		h->len = n > 0 ? (size_t)n : 0;
		h->eof = n == 0;
	}
	if (h->len > 0) {
		ssize_t n = send(c->fd[1 - i], h->buf + h->off, h->len, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		if (n > 0)
			h->off += (size_t)n, h->len -= (size_t)n;
	}
	if (h->eof && h->len == 0 && !h->shut) {
		shutdown(c->fd[1 - i], SHUT_WR);
		h->shut = true;
	}
	return true;
}

static bool conn_step(conn *c, const struct pollfd *p)
{
	if (c->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (!p[1].revents)
			return !(p[0].revents & (POLLHUP | POLLERR));
		if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
			return false; /* nothing listens in the container: the client sees a close */
		c->connecting = false;
		return true;
	}
	if (!pump(c, 0, p[0].revents) || !pump(c, 1, p[1].revents))
		return false;
	return !(c->h[0].shut && c->h[1].shut);
}

int dcfs_port_relay(const int *listeners, const dcfs_port_map *maps, size_t n, int until_fd)
{
	conn *conns[MAX_CONNS] = {0};
	size_t open = 0;
	struct pollfd *p = calloc(n + 1 + 2 * MAX_CONNS, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (;;) {
		p[0] = (struct pollfd){.fd = until_fd, .events = POLLIN};
		for (size_t i = 0; i < n; i++)
			p[1 + i] = (struct pollfd){.fd = open < MAX_CONNS ? listeners[i] : -1,
						   .events = POLLIN};
		struct pollfd *cp = p + 1 + n;
		for (size_t k = 0; k < MAX_CONNS; k++)
			for (int i = 0; i < 2; i++) {
				short ev = conns[k] ? wanted(conns[k], i) : 0;
				cp[2 * k + i] = (struct pollfd){.fd = ev ? conns[k]->fd[i] : -1,
								.events = ev};
			}
		if (poll(p, n + 1 + 2 * MAX_CONNS, -1) < 0) {
			if (errno == EINTR)
				continue;
			int r = -errno;
			free(p);
			return r;
		}
		if (p[0].revents)
			break; /* the container is gone */
		for (size_t k = 0; k < MAX_CONNS; k++)
			if (conns[k] && (cp[2 * k].revents || cp[2 * k + 1].revents) &&
			    !conn_step(conns[k], cp + 2 * k))
				conn_close(&conns[k]), open--;
		for (size_t i = 0; i < n; i++) {
			if (!p[1 + i].revents)
				continue;
			for (size_t k = 0; k < MAX_CONNS && open < MAX_CONNS; k++)
				if (!conns[k]) {
					conn_open(&conns[k], listeners[i], maps[i].container);
					open += conns[k] != NULL;
					break;
				}
		}
	}
	for (size_t k = 0; k < MAX_CONNS; k++)
		if (conns[k])
			conn_close(&conns[k]);
	free(p);
	return 0;
}
