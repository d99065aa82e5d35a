/* `dcfs import`: pick the reader for the source, ingest, commit. */
#include "import.h"

#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"

/* The OCI config of an imported root filesystem: what `docker import` would record. */
static const char import_config[] =
	"{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":"
	"[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],"
	"\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";

int dcfs_import(dcfs_store *s, const char *src, const char *ref, dcfs_layer_writer_stats *stats,
		dcfs_error *e)
{
	struct stat st;
	if (stat(src, &st) < 0)
		return dcfs_error_set(e, errno, "cannot read '%s': %m", src);
	bool dir = S_ISDIR(st.st_mode);
	_cleanup_ingest_ dcfs_layer_writer *in = NULL;
	int r = dcfs_layer_writer_new(s, dir ? "file" : "tar entry", &in, e);
	if (r < 0)
		return r;
	r = dir ? dcfs_import_read_dir(in, src, e) : dcfs_import_read_tar(in, src, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *source = NULL;
	char *abs = realpath(src, NULL);
	if (asprintf(&source, "import:%s", abs ? abs : src) < 0)
		source = NULL;
	free(abs);
	const dcfs_layer_writer_stats *got = NULL;
	r = dcfs_layer_writer_commit(in, ref, "image", import_config, source ? source : src, &got, e);
	if (r < 0)
		return r;
	if (stats)
		*stats = *got;
	return 0;
}
