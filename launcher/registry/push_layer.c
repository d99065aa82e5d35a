/* A layer as an OCI tar stream (see push_internal.h). libarchive writes a pax archive from the
 * layer's catalog entries, in path order (parents first) with hardlinks last so that their
 * targets come before them; whiteouts become `.wh.NAME` and opaque directories get a
 * `.wh..wh..opq` marker. File data is read back from the chunks (fs/store/blob_content.h, which
 * keeps the last chunk decompressed since small files share chunks). The uncompressed bytes are hashed
 * (the diff_id), then compressed here with zstd or zlib rather than by a libarchive filter, so
 * that both digests come from the one stream, and the compressed bytes are hashed (the blob
 * digest) as they are written to an unlinked temporary file. */
#include "push_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "blob_content.h"
#include "cleanup.h"
#include "hash.h"
#include "layer_table.h"
#include "xattrs.h"

#define OUT_BUF (256u << 10)

typedef struct writer {
	dcfs_store *store;
	dcfs_push_compression comp;
	ZSTD_CCtx *zc;
	z_stream gz;
	bool gz_ready;
	unsigned char *out; /* compressed bytes not yet written */
	dcfs_hasher plain, packed;
	int fd;
	uint64_t size;
	int err; /* -errno of the first failure in a callback */
	dcfs_blob_content content; /* the files' bytes, from their chunks */
} writer;

static int emit(writer *w, const void *buf, size_t len)
{
	dcfs_hasher_update(&w->packed, buf, len);
	for (const char *p = buf; len > 0;) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
		w->size += (uint64_t)n;
	}
	return 0;
}

/* Compress `len` bytes (with `end`, finish the stream) and write what comes out. */
static int compress_zstd(writer *w, const void *buf, size_t len, bool end)
{
	ZSTD_inBuffer in = {buf, len, 0};
	for (;;) {
		ZSTD_outBuffer out = {w->out, OUT_BUF, 0};
		size_t left = ZSTD_compressStream2(w->zc, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left))
			return -EIO;
		int r = emit(w, w->out, out.pos);
		if (r < 0)
			return r;
		if (end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

static int compress_gzip(writer *w, const void *buf, size_t len, bool end)
{
	w->gz.next_in = (unsigned char *)buf;
	w->gz.avail_in = (uInt)len;
	for (;;) {
		w->gz.next_out = w->out;
		w->gz.avail_out = OUT_BUF;
		int z = deflate(&w->gz, end ? Z_FINISH : Z_NO_FLUSH);
		if (z == Z_STREAM_ERROR)
			return -EIO;
		int r = emit(w, w->out, OUT_BUF - w->gz.avail_out);
		if (r < 0)
			return r;
		if (end ? z == Z_STREAM_END : w->gz.avail_in == 0 && w->gz.avail_out != 0)
			return 0;
	}
}

static int pack(writer *w, const void *buf, size_t len, bool end)
{
	if (!end)
		dcfs_hasher_update(&w->plain, buf, len);
	return w->comp == DCFS_PUSH_ZSTD ? compress_zstd(w, buf, len, end)
					  : compress_gzip(w, buf, len, end);
}

static la_ssize_t archive_out(struct archive *a, void *opaque, const void *buf, size_t len)
{
	writer *w = opaque;
	int r = pack(w, buf, len, false);
	if (r < 0) {
		w->err = r;
		archive_set_error(a, -r, "cannot write the layer");
		return -1;
	}
	return (la_ssize_t)len;
}

static int writer_init(writer *w, dcfs_store *s, dcfs_push_compression c, dcfs_error *e)
{
	*w = (writer){.store = s, .comp = c, .fd = -1};
	dcfs_hasher_init(&w->plain);
	dcfs_hasher_init(&w->packed);
	w->out = malloc(OUT_BUF);
	if (!w->out || dcfs_blob_content_init(&w->content, s, e) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (c == DCFS_PUSH_ZSTD) {
		w->zc = ZSTD_createCCtx();
		if (!w->zc)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, 3);
	} else {
		if (deflateInit2(&w->gz, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		w->gz_ready = true;
	}
	w->fd = openat(s->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (w->fd < 0)
		return dcfs_error_set(e, errno, "cannot create a temporary file: %m");
	return 0;
}

static void writer_release(writer *w)
{
	dcfs_hasher_free(&w->plain);
	dcfs_hasher_free(&w->packed);
	free(w->out);
	dcfs_blob_content_free(&w->content);
	ZSTD_freeCCtx(w->zc);
	if (w->gz_ready)
		deflateEnd(&w->gz);
	if (w->fd >= 0)
		close(w->fd);
}

/* ---- file data ------------------------------------------------------------------------------ */

static int zeros(struct archive *a, uint64_t n)
{
	static const char z[4096];
	while (n > 0) {
		size_t k = n < sizeof(z) ? (size_t)n : sizeof(z);
		if (archive_write_data(a, z, k) < 0)
			return -EIO;
		n -= k;
	}
	return 0;
}

typedef struct data_out {
	writer *w;
	struct archive *a;
	uint64_t pos; /* bytes written so far */
} data_out;

static int tar_failed(data_out *o, dcfs_error *e)
{
	return dcfs_error_set(e, o->w->err ? -o->w->err : EIO, "cannot write the layer's tar: %s",
			      archive_error_string(o->a));
}

static int write_piece(void *opaque, uint64_t off, const void *data, uint32_t len, dcfs_error *e)
{
	data_out *o = opaque;
	if (zeros(o->a, off - o->pos) < 0 || archive_write_data(o->a, data, len) < 0)
		return tar_failed(o, e);
	o->pos = off + len;
	return 0;
}

static int write_data(writer *w, struct archive *a, int64_t blob_id, uint64_t size, dcfs_error *e)
{
	data_out o = {.w = w, .a = a};
	int r = dcfs_blob_content_read(&w->content, blob_id, size, write_piece, &o, e);
	if (r >= 0 && zeros(a, size - o.pos) < 0)
		r = tar_failed(&o, e);
	return r;
}

/* ---- entries -------------------------------------------------------------------------------- */

static char *tar_name(const char *path)
{
	return strdup(*path ? path : ".");
}

/* A `.wh.NAME` whiteout or a `.wh..wh..opq` marker in `dir` for `base`. */
static int write_marker(writer *w, struct archive *a, const char *path, bool opaque,
			int64_t mtime_ns, dcfs_error *e)
{
	_cleanup_free_ char *name = NULL;
	int k;
	if (opaque) {
		k = *path ? asprintf(&name, "%s/.wh..wh..opq", path) : asprintf(&name, ".wh..wh..opq");
	} else {
		const char *slash = strrchr(path, '/');
		k = slash ? asprintf(&name, "%.*s/.wh.%s", (int)(slash - path), path, slash + 1)
			  : asprintf(&name, ".wh.%s", path);
	}
	if (k < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	struct archive_entry *ae = archive_entry_new();
	if (!ae)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0);
	archive_entry_set_size(ae, 0);
	archive_entry_set_mtime(ae, mtime_ns / 1000000000, mtime_ns % 1000000000);
	int r = archive_write_header(a, ae) < ARCHIVE_WARN ? -EIO : 0;
	archive_entry_free(ae);
	(void)w;
	return r < 0 ? dcfs_error_set(e, EIO, "%s: %s", name, archive_error_string(a)) : 0;
}

static void set_xattrs(struct archive_entry *ae, const void *buf, size_t len)
{
	size_t pos = 0, nl, vl;
	const char *name;
	const void *value;
	while (dcfs_xattrs_next(buf, len, &pos, &name, &nl, &value, &vl)) {
		char n[256 + 1];
		if (nl >= sizeof(n))
			continue;
		memcpy(n, name, nl);
		n[nl] = '\0';
		archive_entry_xattr_add_entry(ae, n, value, vl);
	}
}

static mode_t file_type(char t)
{
	switch (t) {
	case 'd': return AE_IFDIR;
	case 'l': return AE_IFLNK;
	case 'c': return AE_IFCHR;
	case 'b': return AE_IFBLK;
	case 'p': return AE_IFIFO;
	default: return AE_IFREG;
	}
}

static int write_entry(writer *w, struct archive *a, const dcfs_entry_row *en, dcfs_error *e)
{
	const char *path = en->path, *target = en->target;
	int64_t mtime = en->mtime_ns;
	char t = en->type;
	if (t == 'w')
		return write_marker(w, a, path, false, mtime, e);
	if (t == 's')
		return 0; /* tar cannot hold sockets */
	_cleanup_free_ char *name = tar_name(path);
	struct archive_entry *ae = archive_entry_new();
	if (!name || !ae) {
		archive_entry_free(ae);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	uint64_t size = t == 'f' ? en->size : 0;
	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, file_type(t));
	archive_entry_set_perm(ae, (mode_t)en->mode & 07777);
	archive_entry_set_uid(ae, en->uid);
	archive_entry_set_gid(ae, en->gid);
	archive_entry_set_mtime(ae, mtime / 1000000000, mtime % 1000000000);
	archive_entry_set_size(ae, (la_int64_t)size);
	if (t == 'l' && target)
		archive_entry_set_symlink(ae, target);
	if (t == 'h' && target)
		archive_entry_set_hardlink(ae, target);
	if (t == 'c' || t == 'b')
		archive_entry_set_rdev(ae, (dev_t)en->rdev);
	set_xattrs(ae, en->xattrs, en->xattrs_len);
	int r = archive_write_header(a, ae) < ARCHIVE_WARN ? -EIO : 0;
	archive_entry_free(ae);
	if (r < 0)
		return dcfs_error_set(e, w->err ? -w->err : EIO, "%s: %s", name, archive_error_string(a));
	if (t == 'f' && size > 0 && en->blob_id > 0)
		r = write_data(w, a, en->blob_id, size, e);
	if (r >= 0 && t == 'd' && en->opaque)
		r = write_marker(w, a, path, true, mtime, e);
	return r;
}

/* What write_entry() writes to. */
typedef struct tar_out {
	writer *w;
	struct archive *a;
} tar_out;

static int write_entry_to(const dcfs_entry_row *en, void *u, dcfs_error *e)
{
	tar_out *t = u;
	return write_entry(t->w, t->a, en, e);
}

static void digest_of(dcfs_hasher *h, char out[8 + 64])
{
	dcfs_hash d;
	dcfs_hasher_final(h, &d);
	memcpy(out, "sha256:", 7);
	dcfs_hash_to_hex(&d, out + 7);
}

static int write_archive(writer *w, int64_t layer_id, dcfs_error *e)
{
	struct archive *a = archive_write_new();
	if (!a)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	archive_write_set_format_pax(a);
	/* SCHILY.xattr only: what containerd and GNU tar read; with the LIBARCHIVE.xattr copy as
	 * well, libarchive's reader would return each attribute twice */
	archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY");
	archive_write_set_bytes_in_last_block(a, 1);
	int r = 0;
	if (archive_write_open2(a, w, NULL, archive_out, NULL, NULL) != ARCHIVE_OK)
		r = dcfs_error_set(e, EIO, "cannot start the layer: %s", archive_error_string(a));
	if (r >= 0)
		r = dcfs_entry_each_links_last(w->store->db, layer_id, write_entry_to,
					       &(tar_out){.w = w, .a = a}, e);
	if (r >= 0 && archive_write_close(a) != ARCHIVE_OK)
		r = dcfs_error_set(e, EIO, "cannot end the layer: %s", archive_error_string(a));
	archive_write_free(a);
	return r;
}

int push_layer_write(dcfs_store *s, int64_t layer_id, dcfs_push_compression c, push_file *out,
		     dcfs_error *e)
{
	*out = (push_file){.fd = -1};
	writer w;
	int r = writer_init(&w, s, c, e);
	if (r >= 0)
		r = write_archive(&w, layer_id, e);
	if (r >= 0 && (r = pack(&w, NULL, 0, true)) < 0)
		dcfs_error_set(e, -r, "cannot write the layer");
	if (r >= 0) {
		digest_of(&w.plain, out->diff_id);
		digest_of(&w.packed, out->digest);
		out->size = w.size;
		out->fd = TAKE_FD(w.fd);
	}
	writer_release(&w);
	return r;
}
