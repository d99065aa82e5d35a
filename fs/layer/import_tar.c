/* Reading a tar stream for import with libarchive: plain, gzip, zstd, xz or bzip2; ustar, pax
 * and GNU formats; OCI whiteouts (`.wh.NAME`, `.wh..wh..opq`) become whiteout entries and
 * opaque directories. Entries that would leave the root are refused by the layer writer. */
#include "import.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "path.h"
#include "xattrs.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define WH_META ".wh..wh."

DEFINE_TRIVIAL_CLEANUP(struct archive *, archive_read_free)

static char tar_type(struct archive_entry *ae)
{
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG: return DCFS_T_FILE;
	case AE_IFDIR: return DCFS_T_DIR;
	case AE_IFLNK: return DCFS_T_SYMLINK;
	case AE_IFCHR: return DCFS_T_CHAR;
	case AE_IFBLK: return DCFS_T_BLOCK;
	case AE_IFIFO: return DCFS_T_FIFO;
	case AE_IFSOCK: return DCFS_T_SOCKET;
	default: return 0;
	}
}

static int read_xattrs(struct archive_entry *ae, dcfs_xattrs *x, dcfs_error *e)
{
	if (archive_entry_xattr_reset(ae) == 0)
		return 0;
	const char *name;
	const void *value;
	size_t len;
	while (archive_entry_xattr_next(ae, &name, &value, &len) == ARCHIVE_OK)
		if (dcfs_xattrs_add(x, name, value, len) < 0)
			return dcfs_error_set(e, E2BIG, "tar entry '%s': attribute '%s' is too large",
					      archive_entry_pathname(ae), name);
	if (dcfs_xattrs_sort(x) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

/* `.wh.` names: an opaque marker or a whiteout. Returns 1 when handled. */
static int whiteout(dcfs_layer_writer *in, struct archive_entry *ae, const char *name, dcfs_error *e)
{
	_cleanup_free_ char *norm = NULL;
	int r = dcfs_path_normalize(name, &norm);
	if (r == -EPERM)
		return dcfs_error_set(e, EPERM, "tar entry '%s' escapes the root", name);
	if (r < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	const char *base = dcfs_path_base(norm);
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) != 0)
		return 0;
	_cleanup_free_ char *parent = dcfs_path_parent(norm);
	if (!parent)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (!strcmp(base, WH_OPAQUE)) {
		r = dcfs_layer_writer_set_opaque(in, parent, e);
		return r < 0 ? r : 1;
	}
	if (!strncmp(base, WH_META, strlen(WH_META)))
		return 1; /* aufs bookkeeping (.wh..wh.plnk and such): not content */
	_cleanup_free_ char *victim = NULL;
	if (asprintf(&victim, "%s%s%s", parent, *parent ? "/" : "", base + strlen(WH_PREFIX)) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	dcfs_entry_info info = {
		.path = victim,
		.type = DCFS_T_WHITEOUT,
		.uid = (uint32_t)archive_entry_uid(ae),
		.gid = (uint32_t)archive_entry_gid(ae),
		.mtime_ns = (int64_t)archive_entry_mtime(ae) * 1000000000 + archive_entry_mtime_nsec(ae),
	};
	r = dcfs_layer_writer_add(in, &info, e);
	return r < 0 ? r : 1;
}

static int read_data(dcfs_layer_writer *in, struct archive *a, const char *name, dcfs_error *e)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int rc = archive_read_data_block(a, &buf, &len, &off);
		if (rc == ARCHIVE_EOF)
			return 0;
		if (rc < ARCHIVE_WARN)
			return dcfs_error_set(e, EIO, "tar entry '%s': %s", name, archive_error_string(a));
		if (off < 0)
			return dcfs_error_set(e, EIO, "tar entry '%s': bad data offset", name);
		int r = dcfs_layer_writer_data(in, (uint64_t)off, buf, len, e);
		if (r < 0)
			return r;
	}
}

int dcfs_import_tar_entry(dcfs_layer_writer *in, struct archive *a, struct archive_entry *ae,
			  dcfs_error *e)
{
	const char *name = archive_entry_pathname(ae);
	if (!name)
		return dcfs_error_set(e, EINVAL, "tar entry without a name");
	int r = whiteout(in, ae, name, e);
	if (r != 0)
		return r < 0 ? r : 0;
	const char *hardlink = archive_entry_hardlink(ae);
	char type = hardlink ? DCFS_T_HARDLINK : tar_type(ae);
	if (!type)
		return dcfs_error_set(e, EINVAL, "tar entry '%s': unsupported file type", name);
	_cleanup_(dcfs_xattrs_free) dcfs_xattrs x = {0};
	r = read_xattrs(ae, &x, e);
	if (r < 0)
		return r;
	int64_t size = archive_entry_size(ae);
	dcfs_entry_info info = {
		.path = name,
		.type = type,
		.mode = archive_entry_perm(ae),
		.uid = (uint32_t)archive_entry_uid(ae),
		.gid = (uint32_t)archive_entry_gid(ae),
		.mtime_ns = (int64_t)archive_entry_mtime(ae) * 1000000000 + archive_entry_mtime_nsec(ae),
		.size = type == DCFS_T_FILE && size > 0 ? (uint64_t)size : 0,
		.target = hardlink ? hardlink : archive_entry_symlink(ae),
		.rdev = archive_entry_rdev(ae),
		.xattrs = x.buf,
		.xattrs_len = x.len,
	};
	r = dcfs_layer_writer_add(in, &info, e);
	if (r < 0)
		return r;
	if (type == DCFS_T_FILE)
		return read_data(in, a, name, e);
	return 0;
}

int dcfs_import_read_tar(dcfs_layer_writer *in, const char *file, dcfs_error *e)
{
	_cleanup_(archive_read_freep) struct archive *a = archive_read_new();
	if (!a)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, file, 1 << 20) != ARCHIVE_OK)
		return dcfs_error_set(e, archive_errno(a) > 0 ? archive_errno(a) : EIO, "'%s': %s", file,
				      archive_error_string(a));
	_cleanup_free_ char *name = NULL;
	if (asprintf(&name, "'%s'", file) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return dcfs_import_tar_entries(in, a, name, NULL, NULL, e);
}

int dcfs_import_tar_error(struct archive *a, const char *name, bool first, dcfs_error *e)
{
	return dcfs_error_set(e, EINVAL, "%s%s%s%s", name ? name : "", name ? ": " : "",
			      first ? "not a tar archive: " : "",
			      archive_error_string(a) ? archive_error_string(a) : "read error");
}

int dcfs_import_tar_entries(dcfs_layer_writer *in, struct archive *a, const char *name,
			    int (*source_error)(void *u, dcfs_error *e), void *u, dcfs_error *e)
{
	for (bool first = true;; first = false) {
		struct archive_entry *ae;
		int rc = archive_read_next_header(a, &ae);
		if (rc == ARCHIVE_EOF)
			return 0;
		int r = rc < ARCHIVE_WARN ? -EINVAL : dcfs_import_tar_entry(in, a, ae, e);
		if (r >= 0)
			continue;
		int src = source_error ? source_error(u, e) : 0;
		if (src < 0)
			return src;
		if (rc < ARCHIVE_WARN)
			return dcfs_import_tar_error(a, name, first, e);
		if (name)
			dcfs_error_wrap(e, "%s", name);
		return r;
	}
}
