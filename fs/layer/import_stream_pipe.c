/* A tar stream's bytes made ready on a thread of their own (see import_stream_pipe.h).
 *
 * The reading thread owns the source and, for a gzip stream, the inflater; it fills SLOTS
 * buffers of SLOT_SIZE bytes in turn and publishes each when full, or sooner when the caller's
 * thread is waiting for bytes (a slow network), and the last when the source ends. The caller's
 * thread holds one published slot at a time, the one it was last given, and hands it back on
 * its next read. So the two overlap (for a pull: receiving, hashing and inflating on one core,
 * parsing, chunking and hashing on the other) within a fixed 2 MiB.
 *
 * A gzip stream that turns out to be corrupt is read on to its end first: when the source
 * itself fails then (a registry blob that does not match its digest), that is the cause and
 * what is reported. */
#include "import_stream_pipe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gunzip.h"

#define SLOTS 8
#define SLOT_SIZE (256 * 1024)

typedef struct slot {
	unsigned char *data;
	size_t len;
} slot;

struct stream_pipe {
	dcfs_tar_read_fn read;
	dcfs_tar_interrupt_fn interrupt;
	void *opaque;
	pthread_t thread;
	bool started;

	pthread_mutex_t lock;
	pthread_cond_t changed;
	slot slots[SLOTS];
	size_t head, count; /* the published slots, oldest first */
	bool held;          /* the caller holds slots[head] */
	bool waiting;       /* the caller waits for a slot */
	bool ended;         /* the reading thread is done: nothing more will be published */
	bool stopping;      /* the caller gave up */
	bool inflates;
	dcfs_error err; /* the reading thread's failure, reported after the slots before it */

	/* the reading thread's own */
	dcfs_gunzip *gz;
	slot *cur; /* the slot being filled, not yet published */
};

/* ---- the reading thread ------------------------------------------------------------------ */

static bool stopping(stream_pipe *p)
{
	pthread_mutex_lock(&p->lock);
	bool s = p->stopping;
	pthread_mutex_unlock(&p->lock);
	return s;
}

/* The slot to fill next, once one is free; -ECANCELED when the caller gave up. */
static int acquire(stream_pipe *p, dcfs_error *e)
{
	pthread_mutex_lock(&p->lock);
	while (p->count == SLOTS && !p->stopping)
		pthread_cond_wait(&p->changed, &p->lock);
	if (!p->stopping) {
		p->cur = &p->slots[(p->head + p->count) % SLOTS];
		p->cur->len = 0;
	}
	bool s = p->stopping;
	pthread_mutex_unlock(&p->lock);
	return s ? dcfs_error_set(e, ECANCELED, "cancelled") : 0;
}

static void publish(stream_pipe *p)
{
	pthread_mutex_lock(&p->lock);
	p->count++;
	p->cur = NULL;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}

static int put_plain(stream_pipe *p, const unsigned char *buf, size_t len, dcfs_error *e)
{
	while (len > 0) {
		if (!p->cur) {
			int r = acquire(p, e);
			if (r < 0)
				return r;
		}
		size_t n = SLOT_SIZE - p->cur->len;
		if (n > len)
			n = len;
		memcpy(p->cur->data + p->cur->len, buf, n);
		p->cur->len += n;
		buf += n;
		len -= n;
		if (p->cur->len == SLOT_SIZE)
			publish(p);
	}
	return 0;
}

static int put_gzip(stream_pipe *p, const unsigned char *buf, size_t len, dcfs_error *e)
{
	dcfs_gunzip_input(p->gz, buf, len);
	for (;;) {
		if (!p->cur) {
			int r = acquire(p, e);
			if (r < 0)
				return r;
		}
		ssize_t n = dcfs_gunzip_read(p->gz, p->cur->data + p->cur->len, SLOT_SIZE - p->cur->len, e);
		if (n < 0)
			return (int)n;
		p->cur->len += (size_t)n;
		if (p->cur->len == SLOT_SIZE)
			publish(p);
		if (dcfs_gunzip_needs_input(p->gz))
			return 0;
	}
}

/* Bytes from the source into the slots; a partly filled slot goes out at once when the caller
 * has nothing to work on. */
static int put(stream_pipe *p, const void *buf, size_t len, dcfs_error *e)
{
	int r = p->gz ? put_gzip(p, buf, len, e) : put_plain(p, buf, len, e);
	if (r < 0 || !p->cur || p->cur->len == 0)
		return r;
	pthread_mutex_lock(&p->lock);
	if (p->waiting) {
		p->count++;
		p->cur = NULL;
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Read the first bytes (3 or up to the end) and choose: inflate or pass through. Returns 1 when
 * the source ended there. */
static int begin(stream_pipe *p, dcfs_error *e)
{
	unsigned char head[3];
	size_t nhead = 0;
	const void *buf = NULL;
	ssize_t n = 0;
	while (nhead < sizeof(head)) {
		n = p->read(p->opaque, &buf, e);
		if (n <= 0)
			break;
		size_t k = sizeof(head) - nhead < (size_t)n ? sizeof(head) - nhead : (size_t)n;
		memcpy(head + nhead, buf, k);
		nhead += k;
		buf = (const unsigned char *)buf + k;
		n -= (ssize_t)k;
	}
	if (n < 0)
		return (int)n;
	if (dcfs_gunzip_magic(head, nhead)) {
		int r = dcfs_gunzip_new(&p->gz, e);
		if (r < 0)
			return r;
		pthread_mutex_lock(&p->lock);
		p->inflates = true;
		pthread_mutex_unlock(&p->lock);
	}
	int r = put(p, head, nhead, e);
	if (r >= 0 && n > 0)
		r = put(p, buf, (size_t)n, e);
	return r < 0 ? r : nhead < sizeof(head);
}

/* The whole source through the slots; 0 at its end. */
static int pump(stream_pipe *p, dcfs_error *e)
{
	int r = begin(p, e);
	while (r == 0) {
		const void *buf;
		ssize_t n = p->read(p->opaque, &buf, e);
		if (n <= 0) {
			r = (int)n;
			break;
		}
		r = put(p, buf, (size_t)n, e);
	}
	if (r < 0)
		return r;
	r = 0;
	if (p->gz)
		r = dcfs_gunzip_end(p->gz, e);
	return r;
}

/* After corrupt gzip data: read the source to its end; its own failure, if any, is the cause. */
static int blame_source(stream_pipe *p, int r, dcfs_error *e)
{
	dcfs_error src = {0};
	ssize_t n;
	do {
		const void *buf;
		n = stopping(p) ? 0 : p->read(p->opaque, &buf, &src);
	} while (n > 0);
	if (n < 0) {
		dcfs_error_clear(e);
		*e = src;
		return (int)n;
	}
	dcfs_error_clear(&src);
	return r;
}

static void *reader_main(void *opaque)
{
	stream_pipe *p = opaque;
	dcfs_error e = {0};
	int r = pump(p, &e);
	if (r == -EBADMSG && p->gz)
		r = blame_source(p, r, &e);
	pthread_mutex_lock(&p->lock);
	if (r >= 0 && p->cur && p->cur->len > 0)
		p->count++; /* the last, partly filled slot */
	p->cur = NULL;
	if (r < 0 && !p->stopping) {
		p->err = e;
		e = (dcfs_error){0};
		if (!p->err.code)
			p->err.code = -r;
	}
	p->ended = true;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
	dcfs_error_clear(&e);
	return NULL;
}

/* ---- the caller's side ------------------------------------------------------------------- */

int stream_pipe_start(dcfs_tar_read_fn read, dcfs_tar_interrupt_fn interrupt, void *opaque,
		      stream_pipe **out, dcfs_error *e)
{
	*out = NULL;
	stream_pipe *p = calloc(1, sizeof(*p));
	if (!p)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	p->read = read;
	p->interrupt = interrupt;
	p->opaque = opaque;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->changed, NULL);
	for (size_t i = 0; i < SLOTS; i++) {
		p->slots[i].data = malloc(SLOT_SIZE);
		if (!p->slots[i].data) {
			stream_pipe_free(p);
			return dcfs_error_set(e, ENOMEM, "out of memory");
		}
	}
	int r = pthread_create(&p->thread, NULL, reader_main, p);
	if (r != 0) {
		stream_pipe_free(p);
		return dcfs_error_set(e, r, "cannot start a reading thread: %s", strerror(r));
	}
	p->started = true;
	*out = p;
	return 0;
}

ssize_t stream_pipe_read(stream_pipe *p, const void **buf, dcfs_error *e)
{
	pthread_mutex_lock(&p->lock);
	if (p->held) {
		p->held = false;
		p->head = (p->head + 1) % SLOTS;
		p->count--;
		pthread_cond_broadcast(&p->changed);
	}
	while (p->count == 0 && !p->ended) {
		p->waiting = true;
		pthread_cond_wait(&p->changed, &p->lock);
	}
	p->waiting = false;
	ssize_t n = 0;
	if (p->count > 0) {
		p->held = true;
		*buf = p->slots[p->head].data;
		n = (ssize_t)p->slots[p->head].len;
	} else if (p->err.code) {
		n = dcfs_error_set(e, p->err.code, "%s", p->err.msg ? p->err.msg : "read error");
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

bool stream_pipe_inflates(stream_pipe *p)
{
	pthread_mutex_lock(&p->lock);
	bool v = p->inflates;
	pthread_mutex_unlock(&p->lock);
	return v;
}

int stream_pipe_stop(stream_pipe *p, dcfs_error *e)
{
	if (!p->started)
		return 0;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	bool ended = p->ended;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
	if (!ended && p->interrupt)
		p->interrupt(p->opaque); /* it may be waiting on the network */
	pthread_join(p->thread, NULL);
	p->started = false;
	if (!p->err.code)
		return 0;
	return dcfs_error_set(e, p->err.code, "%s", p->err.msg ? p->err.msg : "read error");
}

void stream_pipe_free(stream_pipe *p)
{
	if (!p)
		return;
	stream_pipe_stop(p, NULL);
	for (size_t i = 0; i < SLOTS; i++)
		free(p->slots[i].data);
	dcfs_gunzip_free(p->gz);
	dcfs_error_clear(&p->err);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->changed);
	free(p);
}
