/* Reading a tar stream from a callback (a registry download) into the layer builder: the same
 * per-entry handling as import_tar.c, with libarchive pulling bytes from import_stream_pipe.c,
 * which reads the source, and inflates it when it is gzip, on a thread of its own (libarchive
 * then sees a plain tar; other compressions are its filters' job). The source's error (a broken
 * transfer, a digest mismatch) and the inflater's are kept and returned as they are. */
#include "import.h"

#include <archive.h>
#include <archive_entry.h>

#include "cleanup.h"
#include "import_stream_pipe.h"

DEFINE_TRIVIAL_CLEANUP(struct archive *, archive_read_free)
DEFINE_TRIVIAL_CLEANUP(stream_pipe *, stream_pipe_free)

typedef struct stream {
	stream_pipe *pipe;
	const void *first; /* the first bytes, read before libarchive is set up */
	ssize_t nfirst;
	dcfs_error err; /* the source's own error, when it failed */
	int code;
} stream;

static la_ssize_t stream_read(struct archive *a, void *opaque, const void **buf)
{
	stream *st = opaque;
	ssize_t n;
	if (st->first) {
		*buf = st->first;
		n = st->nfirst;
		st->first = NULL;
	} else {
		n = stream_pipe_read(st->pipe, buf, &st->err);
	}
	if (n < 0) {
		st->code = (int)-n;
		archive_set_error(a, st->code, "%s", st->err.msg ? st->err.msg : "read error");
		return -1;
	}
	return n;
}

/* The source's error, when it failed: it explains libarchive's (0 when it did not). */
static int source_error(void *opaque, dcfs_error *e)
{
	stream *st = opaque;
	if (!st->code)
		return 0;
	int r = dcfs_error_set(e, st->code, "%s", st->err.msg ? st->err.msg : "read error");
	dcfs_error_clear(&st->err);
	return r;
}

/* Prefer the source's error over libarchive's rendering of it. */
static int fail(stream *st, struct archive *a, const char *name, bool first, dcfs_error *e)
{
	int r = source_error(st, e);
	return r < 0 ? r : dcfs_import_tar_error(a, name, first, e);
}

/* Parse the tar from the pipe; at its end, take the rest of the stream too (a digest is only
 * checked once the source has given its last byte). */
static int parse(dcfs_layer_writer *in, const char *name, stream *st, dcfs_error *e)
{
	_cleanup_(archive_read_freep) struct archive *a = archive_read_new();
	if (!a)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (stream_pipe_inflates(st->pipe)) {
		archive_read_support_filter_none(a);
	} else {
		archive_read_support_filter_gzip(a);
		archive_read_support_filter_zstd(a);
		archive_read_support_filter_xz(a);
		archive_read_support_filter_bzip2(a);
	}
	archive_read_support_format_tar(a);
	if (archive_read_open(a, st, NULL, stream_read, NULL) != ARCHIVE_OK)
		return fail(st, a, name, true, e);
	int r = dcfs_import_tar_entries(in, a, name, source_error, st, e);
	if (r < 0)
		return r;
	for (;;) {
		const void *buf;
		ssize_t n = stream_pipe_read(st->pipe, &buf, e);
		if (n <= 0)
			return (int)n;
	}
}

int dcfs_import_read_tar_stream(dcfs_layer_writer *in, const char *name, dcfs_tar_read_fn read,
				dcfs_tar_interrupt_fn interrupt, void *opaque, dcfs_error *e)
{
	_cleanup_(stream_pipe_freep) stream_pipe *pipe = NULL;
	int r = stream_pipe_start(read, interrupt, opaque, &pipe, e);
	if (r < 0)
		return r;
	stream st = {.pipe = pipe};
	st.nfirst = stream_pipe_read(pipe, &st.first, e);
	if (st.nfirst < 0)
		return (int)st.nfirst;
	if (st.nfirst == 0)
		st.first = NULL; /* an empty stream: libarchive says what it thinks of it */
	r = parse(in, name, &st, e);
	dcfs_error_clear(&st.err);
	if (r < 0) {
		/* the reading thread may have failed first: that is the cause (a corrupt download
		 * makes a tar that libarchive refuses) */
		dcfs_error cause = {0};
		int rc = stream_pipe_stop(pipe, &cause);
		if (rc < 0 && rc != -ECANCELED) {
			dcfs_error_clear(e);
			*e = cause;
			return rc;
		}
		dcfs_error_clear(&cause);
	}
	return r;
}
