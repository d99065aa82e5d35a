/* The decoder of the Engine API's multiplexed stream (engine_stream.h): a small state machine
 * that takes bytes as they come, whatever the read boundaries. */
#include <string.h>

#include "engine_stream.h"

/* Take header bytes; once the header is whole, start its frame. */
static int take_header(dcfs_engine_demux *d, const unsigned char *p, size_t n, size_t *used,
		       dcfs_error *e)
{
	size_t k = sizeof(d->hdr) - d->hdr_len;
	if (k > n)
		k = n;
	memcpy(d->hdr + d->hdr_len, p, k);
	d->hdr_len += k;
	*used = k;
	if (d->hdr_len < sizeof(d->hdr))
		return 0;
	if (d->hdr[0] > 2)
		return dcfs_error_set(e, EPROTO,
				      "the engine's stream: a frame of unknown stream type %u",
				      d->hdr[0]);
	d->stream = d->hdr[0] == 2 ? 2 : 1;
	d->left = (uint32_t)d->hdr[4] << 24 | (uint32_t)d->hdr[5] << 16 |
		  (uint32_t)d->hdr[6] << 8 | d->hdr[7];
	if (!d->left)
		d->hdr_len = 0; /* a frame without payload */
	return 0;
}

int dcfs_engine_demux_feed(dcfs_engine_demux *d, const void *buf, size_t n,
			   dcfs_engine_demux_out out, void *opaque, dcfs_error *e)
{
	const unsigned char *p = buf;
	while (n) {
		size_t used;
		if (d->hdr_len < sizeof(d->hdr)) {
			int r = take_header(d, p, n, &used, e);
			if (r < 0)
				return r;
		} else {
			used = n < d->left ? n : d->left;
			int r = out(opaque, d->stream, p, used);
			if (r < 0)
				return r;
			d->left -= (uint32_t)used;
			if (!d->left)
				d->hdr_len = 0;
		}
		p += used;
		n -= used;
	}
	return 0;
}

bool dcfs_engine_demux_idle(const dcfs_engine_demux *d)
{
	return d->hdr_len == 0;
}
