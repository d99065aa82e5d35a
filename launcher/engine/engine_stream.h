/* The Engine API's multiplexed stream (an exec or attach without a terminal), decoded
 * incrementally: frames of an 8-byte header (stream type: 0 stdin, 1 stdout, 2 stderr; three
 * zero bytes; a big-endian 32-bit length) and that many bytes, split across reads at any byte. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct dcfs_engine_demux {
	unsigned char hdr[8];
	size_t hdr_len; /* header bytes read so far */
	uint32_t left;	/* payload bytes still to come in this frame */
	int stream;	/* this frame's: 1 stdout (stdin's echo is counted as stdout), 2 stderr */
} dcfs_engine_demux;

/* Where payload bytes go: `stream` 1 or 2; a negative return stops the feed and is returned. */
typedef int (*dcfs_engine_demux_out)(void *opaque, int stream, const void *buf, size_t n);

/* Feed `n` more bytes of the stream. A frame whose stream type is not 0, 1 or 2 fails with
 * -EPROTO. */
int dcfs_engine_demux_feed(dcfs_engine_demux *d, const void *buf, size_t n,
			   dcfs_engine_demux_out out, void *opaque, dcfs_error *e);

/* Is the stream at a frame boundary (as it must be at its end)? */
bool dcfs_engine_demux_idle(const dcfs_engine_demux *d);
