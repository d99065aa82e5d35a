/* A streaming gzip inflater (see gunzip.h) over ISA-L's igzip, or zlib in a build without it.
 * Both check each member's CRC-32 and length; a new member starts wherever one ends, so a
 * multi-member stream reads as the concatenation of its members. */
#include "gunzip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#if DCFS_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#else
#include <zlib.h>
#endif

struct dcfs_gunzip {
#if DCFS_HAVE_ISAL
	struct inflate_state st;
#else
	z_stream z;
	bool z_ready;
#endif
	bool in_member; /* a member has begun and not ended */
	bool starved;   /* the last read stopped for want of input */
	uint64_t members, consumed; /* members ended; compressed bytes inflated */
	size_t in_left; /* of the last input, not yet handed to the inflater (ISA-L takes 32 bits) */
};

bool dcfs_gunzip_magic(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	return len >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8;
}

/* `header`: the failing member's header is not gzip; after a first member, that is trailing data
 * that is not gzip. */
static int corrupt(dcfs_gunzip *g, const char *why, bool header, dcfs_error *e)
{
	unsigned long long at = g->consumed, m = g->members;
	if (m > 0 && header)
		return dcfs_error_set(e, EBADMSG,
				      "corrupt gzip stream: the data after member %llu is not gzip"
				      " (near compressed byte %llu)", m, at);
	return dcfs_error_set(e, EBADMSG,
			      "corrupt gzip stream: %s (member %llu, near compressed byte %llu)", why,
			      m + 1, at);
}

#if DCFS_HAVE_ISAL

int dcfs_gunzip_new(dcfs_gunzip **out, dcfs_error *e)
{
	dcfs_gunzip *g = calloc(1, sizeof(*g));
	if (!g)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	isal_inflate_init(&g->st);
	*out = g;
	return 0;
}

void dcfs_gunzip_free(dcfs_gunzip *g)
{
	free(g);
}

static void feed(dcfs_gunzip *g)
{
	if (g->st.avail_in == 0 && g->in_left > 0) {
		uint32_t n = g->in_left > UINT32_MAX ? UINT32_MAX : (uint32_t)g->in_left;
		g->st.avail_in = n;
		g->in_left -= n;
	}
}

void dcfs_gunzip_input(dcfs_gunzip *g, const void *buf, size_t len)
{
	g->st.next_in = (uint8_t *)buf;
	g->st.avail_in = 0;
	g->in_left = len;
	g->starved = false;
	feed(g);
}

static const char *isal_why(int rc)
{
	switch (rc) {
	case ISAL_INVALID_BLOCK: return "invalid deflate block";
	case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
	case ISAL_INVALID_LOOKBACK: return "invalid back-reference distance";
	case ISAL_INVALID_WRAPPER: return "bad gzip header";
	case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
	case ISAL_INCORRECT_CHECKSUM: return "CRC-32 or length does not match";
	default: return "inflate failed";
	}
}

/* Inflate once into out[0..cap): bytes written, or -1 on corrupt data (*rc says why). */
static ssize_t step(dcfs_gunzip *g, unsigned char *out, size_t cap, int *rc, bool *ended)
{
	if (!g->in_member) {
		/* reset keeps the input but may clear the flags */
		uint8_t *next = g->st.next_in;
		uint32_t avail = g->st.avail_in;
		isal_inflate_reset(&g->st);
		g->st.next_in = next;
		g->st.avail_in = avail;
		g->st.crc_flag = ISAL_GZIP;
		g->in_member = true;
	}
	uint32_t room = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
	uint32_t before_in = g->st.avail_in;
	g->st.next_out = out;
	g->st.avail_out = room;
	*rc = isal_inflate(&g->st);
	g->consumed += before_in - g->st.avail_in;
	if (*rc != ISAL_DECOMP_OK)
		return -1;
	*ended = g->st.block_state == ISAL_BLOCK_FINISH;
	return (ssize_t)(room - g->st.avail_out);
}

ssize_t dcfs_gunzip_read(dcfs_gunzip *g, void *out, size_t cap, dcfs_error *e)
{
	unsigned char *o = out;
	size_t done = 0;
	while (done < cap) {
		feed(g);
		if (!g->in_member && g->st.avail_in == 0) {
			g->starved = true;
			break;
		}
		uint32_t before_in = g->st.avail_in;
		int rc;
		bool ended = false;
		ssize_t n = step(g, o + done, cap - done, &rc, &ended);
		if (n < 0)
			return corrupt(g, isal_why(rc),
				       rc == ISAL_INVALID_WRAPPER || rc == ISAL_UNSUPPORTED_METHOD, e);
		done += (size_t)n;
		if (ended) {
			g->in_member = false;
			g->members++;
		} else if (n == 0 && g->st.avail_in == before_in) {
			if (before_in > 0)
				return corrupt(g, "inflate made no progress", false, e);
			if (g->in_left == 0) {
				g->starved = true; /* the member goes on in the next input */
				break;
			}
		}
	}
	return (ssize_t)done;
}

#else /* zlib */

int dcfs_gunzip_new(dcfs_gunzip **out, dcfs_error *e)
{
	dcfs_gunzip *g = calloc(1, sizeof(*g));
	if (!g)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK) {
		free(g);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	g->z_ready = true;
	*out = g;
	return 0;
}

void dcfs_gunzip_free(dcfs_gunzip *g)
{
	if (!g)
		return;
	if (g->z_ready)
		inflateEnd(&g->z);
	free(g);
}

static void feed(dcfs_gunzip *g)
{
	if (g->z.avail_in == 0 && g->in_left > 0) {
		uInt n = g->in_left > UINT32_MAX ? UINT32_MAX : (uInt)g->in_left;
		g->z.avail_in = n;
		g->in_left -= n;
	}
}

void dcfs_gunzip_input(dcfs_gunzip *g, const void *buf, size_t len)
{
	g->z.next_in = (Bytef *)buf;
	g->z.avail_in = 0;
	g->in_left = len;
	g->starved = false;
	feed(g);
}

ssize_t dcfs_gunzip_read(dcfs_gunzip *g, void *out, size_t cap, dcfs_error *e)
{
	unsigned char *o = out;
	size_t done = 0;
	while (done < cap) {
		feed(g);
		if (!g->in_member) {
			if (g->z.avail_in == 0) {
				g->starved = true;
				break;
			}
			inflateReset(&g->z);
			g->in_member = true;
		}
		uInt room = cap - done > UINT32_MAX ? UINT32_MAX : (uInt)(cap - done);
		uInt before_in = g->z.avail_in;
		g->z.next_out = o + done;
		g->z.avail_out = room;
		int rc = inflate(&g->z, Z_NO_FLUSH);
		g->consumed += before_in - g->z.avail_in;
		size_t n = room - g->z.avail_out;
		done += n;
		if (rc == Z_STREAM_END) {
			g->in_member = false;
			g->members++;
		} else if (rc == Z_BUF_ERROR || (rc == Z_OK && n == 0 && g->z.avail_in == 0)) {
			if (g->in_left > 0)
				continue;
			g->starved = true;
			break;
		} else if (rc != Z_OK) {
			const char *why = g->z.msg ? g->z.msg : "inflate failed";
			return corrupt(g, why, strstr(why, "header") || strstr(why, "method"), e);
		}
	}
	return (ssize_t)done;
}

#endif

bool dcfs_gunzip_needs_input(const dcfs_gunzip *g)
{
	return g->starved;
}

int dcfs_gunzip_end(dcfs_gunzip *g, dcfs_error *e)
{
	if (g->in_member)
		return dcfs_error_set(e, EBADMSG,
				      "corrupt gzip stream: it ends inside member %llu (truncated)",
				      (unsigned long long)g->members + 1);
	if (g->members == 0)
		return dcfs_error_set(e, EBADMSG, "corrupt gzip stream: no member");
	return 0;
}
