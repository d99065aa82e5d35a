/* The relay of an exec's streams over its hijacked socket: a poll loop that moves in_fd's bytes
 * to the socket (shutting the socket's write side at in_fd's end), the socket's bytes to out_fd
 * and err_fd (decoded from the multiplexed stream, or raw with a terminal), and turns each
 * SIGWINCH into a resize. It returns when the engine closes the stream. */
#include <poll.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine_internal.h"
#include "engine_stream.h"

enum { BUF = 64 * 1024 };

typedef struct relay {
	const engine_pump *p;
	dcfs_engine_demux demux;
	char in[BUF];
	size_t in_len, in_off; /* stdin bytes read and not yet sent */
	bool in_open;	       /* in_fd is still read */
	bool sock_write;       /* the socket's write side is still open */
} relay;

static int to_fd(void *opaque, int stream, const void *buf, size_t n)
{
	const engine_pump *p = opaque;
	return engine_write_all(stream == 2 ? p->err_fd : p->out_fd, buf, n);
}

static int output(relay *r, const void *buf, size_t n, dcfs_error *e)
{
	if (r->p->tty)
		return engine_write_all(r->p->out_fd, buf, n);
	return dcfs_engine_demux_feed(&r->demux, buf, n, to_fd, (void *)r->p, e);
}

/* Stop sending: the socket's write side is shut once what was read is sent. */
static void end_input(relay *r)
{
	r->in_open = false;
	if (r->in_off == r->in_len && r->sock_write) {
		shutdown(r->p->sock, SHUT_WR);
		r->sock_write = false;
	}
}

static int read_input(relay *r)
{
	ssize_t n = read(r->p->in_fd, r->in, sizeof(r->in));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) { /* the end, or an error (EIO of a closed terminal): the end too */
		end_input(r);
		return 0;
	}
	r->in_len = (size_t)n;
	r->in_off = 0;
	return 0;
}

static int send_input(relay *r)
{
	ssize_t n = send(r->p->sock, r->in + r->in_off, r->in_len - r->in_off, MSG_NOSIGNAL);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0) { /* the engine no longer reads: drop the input */
		r->in_off = r->in_len;
		r->in_open = false;
		r->sock_write = false;
		return 0;
	}
	r->in_off += (size_t)n;
	if (r->in_off == r->in_len && !r->in_open)
		end_input(r);
	return 0;
}

static void on_winch(relay *r)
{
	struct signalfd_siginfo si;
	while (read(r->p->winch_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	if (r->p->resize)
		r->p->resize(r->p->opaque);
}

/* Read from the socket: 1 while it is open, 0 at its end. */
static int read_socket(relay *r, dcfs_error *e)
{
	char buf[BUF];
	ssize_t n = recv(r->p->sock, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n < 0)
		return dcfs_error_set(e, errno, "the engine's stream: %s", strerror(errno));
	if (n == 0)
		return 0;
	int rr = output(r, buf, (size_t)n, e);
	return rr < 0 ? rr : 1;
}

/* One round of poll: 1 to go on, 0 at the stream's end. */
static int step(relay *r, dcfs_error *e)
{
	bool pending = r->in_off < r->in_len;
	struct pollfd f[3] = {
		{.fd = r->p->sock, .events = POLLIN | (pending ? POLLOUT : 0)},
		{.fd = r->in_open && !pending ? r->p->in_fd : -1, .events = POLLIN},
		{.fd = r->p->winch_fd, .events = POLLIN},
	};
	if (poll(f, 3, -1) < 0)
		return errno == EINTR ? 1 : -errno;
	if (f[2].revents)
		on_winch(r);
	if (f[1].revents)
		read_input(r);
	if (f[0].revents & POLLOUT)
		send_input(r);
	if (f[0].revents & (POLLIN | POLLHUP | POLLERR))
		return read_socket(r, e);
	return 1;
}

int engine_pump_run(const engine_pump *p, const dcfs_strbuf *first, dcfs_error *e)
{
	_cleanup_free_ relay *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->p = p;
	r->in_open = p->in_fd >= 0;
	r->sock_write = p->in_fd >= 0;
	int rr = first->len ? output(r, first->s, first->len, e) : 0;
	while (rr >= 0 && (rr = step(r, e)) > 0)
		;
	if (rr >= 0 && !p->tty && !dcfs_engine_demux_idle(&r->demux))
		return dcfs_error_set(e, EPROTO, "the engine's stream ended inside a frame");
	return rr;
}
