/* The Engine API's multiplexed stream decoder: frames of both streams, stdin's echo, a frame
 * without payload and a long one, fed whole, byte by byte and split at every point (and every
 * pair of points); a bad stream type is an error wherever it falls. */
#include <errno.h>

#include "engine_stream.h"
#include "tap.h"

typedef struct sink {
	char out[1024], err[1024];
	size_t out_len, err_len;
	int calls;
} sink;

static int collect(void *opaque, int stream, const void *buf, size_t n)
{
	sink *s = opaque;
	s->calls++;
	if (stream == 1 && s->out_len + n <= sizeof(s->out)) {
		memcpy(s->out + s->out_len, buf, n);
		s->out_len += n;
	} else if (stream == 2 && s->err_len + n <= sizeof(s->err)) {
		memcpy(s->err + s->err_len, buf, n);
		s->err_len += n;
	} else {
		return -EBADMSG;
	}
	return 0;
}

static size_t frame(unsigned char *p, int type, const char *data, size_t n)
{
	unsigned char h[8] = {(unsigned char)type, 0, 0, 0, (unsigned char)(n >> 24),
			      (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};
	memcpy(p, h, 8);
	memcpy(p + 8, data, n);
	return 8 + n;
}

static unsigned char framed[1024];
static size_t framed_len;
static char want_out[1024], want_err[1024];
static size_t want_out_len, want_err_len;

static void add(int type, const char *data, size_t n)
{
	framed_len += frame(framed + framed_len, type, data, n);
	if (type == 2) {
		memcpy(want_err + want_err_len, data, n);
		want_err_len += n;
	} else {
		memcpy(want_out + want_out_len, data, n);
		want_out_len += n;
	}
}

static void build(void)
{
	char big[300];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	add(1, "hello\n", 6);
	add(2, "", 0);
	add(2, "oops\n", 5);
	add(0, "echo", 4);
	add(1, big, sizeof(big)); /* a length over 255: the header's bytes in order */
	add(1, "", 0);
	add(2, "\0bin\n", 5);
}

/* Feed the stream in pieces ending at cuts[0] < cuts[1] < ... (n cuts); true when the outputs are
 * what was framed and the decoder ends idle. */
static bool feed_split(const size_t *cuts, size_t n)
{
	dcfs_engine_demux d = {0};
	sink s = {0};
	size_t at = 0;
	for (size_t i = 0; i <= n; i++) {
		size_t end = i < n ? cuts[i] : framed_len;
		if (dcfs_engine_demux_feed(&d, framed + at, end - at, collect, &s, NULL) < 0)
			return false;
		at = end;
	}
	return dcfs_engine_demux_idle(&d) && s.out_len == want_out_len &&
	       !memcmp(s.out, want_out, want_out_len) && s.err_len == want_err_len &&
	       !memcmp(s.err, want_err, want_err_len);
}

static void whole_and_bytes(void)
{
	CHECK(feed_split(NULL, 0));
	dcfs_engine_demux d = {0};
	sink s = {0};
	bool ok = true;
	for (size_t i = 0; i < framed_len; i++)
		ok = ok && dcfs_engine_demux_feed(&d, framed + i, 1, collect, &s, NULL) == 0;
	CHECK(ok && dcfs_engine_demux_idle(&d));
	CHECK_INT(s.out_len, want_out_len);
	CHECK_MEM(s.out, want_out, want_out_len);
	CHECK_INT(s.err_len, want_err_len);
	CHECK_MEM(s.err, want_err, want_err_len);
}

static void every_split(void)
{
	size_t bad = 0;
	for (size_t i = 0; i <= framed_len; i++)
		if (!feed_split(&i, 1))
			bad++;
	CHECK_INT(bad, 0);
	bad = 0;
	for (size_t i = 0; i <= framed_len; i++)
		for (size_t j = i; j <= framed_len; j++)
			if (!feed_split((size_t[]){i, j}, 2))
				bad++;
	CHECK_INT(bad, 0);
}

static void unfinished(void)
{
	for (size_t cut = 1; cut < 8 + 6; cut++) { /* inside the first header, then its payload */
		dcfs_engine_demux d = {0};
		sink s = {0};
		dcfs_engine_demux_feed(&d, framed, cut, collect, &s, NULL);
		if (!tap_result(!dcfs_engine_demux_idle(&d), __FILE__, __LINE__,
				"cut after %zu bytes: not idle", cut))
			break;
	}
}

static void bad_type(void)
{
	unsigned char bad[64];
	size_t n = frame(bad, 1, "ok", 2);
	n += frame(bad + n, 3, "no", 2);
	for (size_t split = 0; split <= n; split++) {
		dcfs_engine_demux d = {0};
		sink s = {0};
		dcfs_error e = {0};
		int r = dcfs_engine_demux_feed(&d, bad, split, collect, &s, &e);
		if (r == 0)
			r = dcfs_engine_demux_feed(&d, bad + split, n - split, collect, &s, &e);
		bool ok = r == -EPROTO && e.msg && strstr(e.msg, "stream type 3") &&
			  s.out_len == 2 && s.err_len == 0;
		dcfs_error_clear(&e);
		if (!tap_result(ok, __FILE__, __LINE__, "type 3 after a good frame (split %zu): -EPROTO",
				split))
			return;
	}
}

static int stop_at_second(void *opaque, int stream, const void *buf, size_t n)
{
	(void)stream, (void)buf, (void)n;
	return ++*(int *)opaque == 2 ? -EPIPE : 0;
}

static void sink_error_stops(void)
{
	dcfs_engine_demux d = {0};
	int calls = 0;
	CHECK_INT(dcfs_engine_demux_feed(&d, framed, framed_len, stop_at_second, &calls, NULL),
		  -EPIPE);
	CHECK_INT(calls, 2);
}

int main(void)
{
	build();
	whole_and_bytes();
	every_split();
	unfinished();
	bad_type();
	sink_error_stops();
	return tap_done();
}
