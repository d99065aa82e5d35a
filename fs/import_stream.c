/* Reading a tar stream from a callback (a registry download) into the layer builder: the same
 * per-entry handling as import_tar.c, with libarchive pulling bytes through dcfs_tar_read_fn.
 * The source's error (a broken transfer, a digest mismatch) is kept and returned as is. */
#include "import.h"

#include <archive.h>
#include <archive_entry.h>

#include "cleanup.h"

DEFINE_TRIVIAL_CLEANUP(struct archive *, archive_read_free)

typedef struct stream {
	dcfs_tar_read_fn read;
	void *opaque;
	dcfs_error err; /* the source's own error, when it failed */
	int code;
} stream;

static la_ssize_t stream_read(struct archive *a, void *opaque, const void **buf)
{
	stream *st = opaque;
	ssize_t n = st->read(st->opaque, buf, &st->err);
	if (n < 0) {
		st->code = (int)-n;
		archive_set_error(a, st->code, "%s", st->err.msg ? st->err.msg : "read error");
		return -1;
	}
	return n;
}

/* Prefer the source's error over libarchive's rendering of it. */
static int fail(stream *st, struct archive *a, const char *name, bool first, dcfs_error *e)
{
	if (st->code) {
		int r = dcfs_error_set(e, st->code, "%s", st->err.msg ? st->err.msg : "read error");
		dcfs_error_clear(&st->err);
		return r;
	}
	return dcfs_error_set(e, EINVAL, "%s%s%s%s", name ? name : "", name ? ": " : "",
			      first ? "not a tar archive: " : "",
			      archive_error_string(a) ? archive_error_string(a) : "read error");
}

static int read_entries(dcfs_ingest *in, struct archive *a, stream *st, const char *name,
			dcfs_error *e)
{
	for (bool first = true;; first = false) {
		struct archive_entry *ae;
		int rc = archive_read_next_header(a, &ae);
		if (rc == ARCHIVE_EOF)
			return 0;
		if (rc < ARCHIVE_WARN)
			return fail(st, a, name, first, e);
		int r = dcfs_import_tar_entry(in, a, ae, e);
		if (r < 0) {
			if (st->code)
				return fail(st, a, name, false, e);
			if (name)
				dcfs_error_wrap(e, "%s", name);
			return r;
		}
	}
}

int dcfs_import_read_tar_stream(dcfs_ingest *in, const char *name, dcfs_tar_read_fn read,
				void *opaque, dcfs_error *e)
{
	_cleanup_(archive_read_freep) struct archive *a = archive_read_new();
	if (!a)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a);
	stream st = {.read = read, .opaque = opaque};
	int r;
	if (archive_read_open(a, &st, NULL, stream_read, NULL) != ARCHIVE_OK)
		r = fail(&st, a, name, true, e);
	else
		r = read_entries(in, a, &st, name, e);
	dcfs_error_clear(&st.err);
	return r;
}
