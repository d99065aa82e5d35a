/* The bytes of a tar stream, made ready on a thread of their own (import_stream_pipe.c): one
 * thread reads the source (for a registry layer: receives it and hashes it) and, when the
 * stream is gzip, inflates it; the caller's thread takes the plain bytes from a bounded ring of
 * buffers and parses the tar. Internal to the stream import. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "import.h"

typedef struct stream_pipe stream_pipe;

/* Start reading `read` on a new thread; `interrupt` (may be NULL) is how stream_pipe_stop()
 * cuts short a read in progress. */
int stream_pipe_start(dcfs_tar_read_fn read, dcfs_tar_interrupt_fn interrupt, void *opaque,
		      stream_pipe **out, dcfs_error *e);

/* The next bytes, in order (valid until the next call): their count, 0 once the source has
 * ended (read to its end, and a gzip stream checked to its last member), or -errno with `e`
 * filled by the source's or the inflater's error. */
ssize_t stream_pipe_read(stream_pipe *p, const void **buf, dcfs_error *e);

/* Whether the source is gzip and the bytes read are inflated (known after the first read). */
bool stream_pipe_inflates(stream_pipe *p);

/* Stop the reading thread (it is told to give up when the caller did) and wait for it. Returns
 * 0, or the reader's own failure (-errno, `e` filled) when it failed before it was stopped. */
int stream_pipe_stop(stream_pipe *p, dcfs_error *e);

void stream_pipe_free(stream_pipe *p);
