/* Reading a built image into the store through the builder's push (the slow path: a buildah
 * without podman, a storage driver other than overlay, overlay metacopy or redirects). podman
 * 4.3 and buildah 1.28 have no --disable-compression for an `oci:` layout, so the image is
 * pushed to the `dir:` transport instead, whose layers stay uncompressed: `podman push --format
 * oci ID dir:TMP` (buildah likewise) writes manifest.json (an OCI manifest) and each blob as a
 * file named by its hex digest. An OCI layout (index.json, blobs/sha256/) is read as well. TMP is
 * a folder of the store's staging area, removed at the end. Each layer's source is "diff:" and
 * the config's rootfs.diff_ids entry; the config is recorded as the builder's exact blob.
 * Docker's storage is not read this way (a `docker save` archive is not implemented). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "build_internal.h"
#include "cleanup.h"
#include "fsutil.h"
#include "image_record.h"
#include "import.h"

#define JSON_MAX (16u << 20)

DEFINE_TRIVIAL_CLEANUP(cJSON *, cJSON_Delete)

/* The file of blob `digest` ("sha256:HEX") in the pushed folder `dir`. */
static char *blob_path(const char *dir, bool layout, const char *digest)
{
	char *out = NULL;
	if (!digest || strncmp(digest, "sha256:", 7) || strchr(digest + 7, '/'))
		return NULL;
	if (asprintf(&out, layout ? "%s/blobs/sha256/%s" : "%s/%s", dir, digest + 7) < 0)
		return NULL;
	return out;
}

static int read_json(const char *path, cJSON **out, char **text, dcfs_error *e)
{
	_cleanup_free_ char *buf = NULL;
	int r = dcfs_build_read_file(path, JSON_MAX, &buf, NULL, e);
	if (r < 0)
		return r;
	if (!(*out = cJSON_Parse(buf)))
		return dcfs_error_set(e, EIO, "'%s' is not JSON", path);
	if (text)
		*text = TAKE_PTR(buf);
	return 0;
}

/* The manifest: manifest.json of a dir: push, or index.json's first one of an OCI layout. */
static int read_manifest(const char *dir, bool *layout, cJSON **out, dcfs_error *e)
{
	_cleanup_free_ char *index = NULL, *path = NULL;
	if (asprintf(&index, "%s/index.json", dir) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	*layout = access(index, F_OK) == 0;
	if (!*layout) {
		if (asprintf(&path, "%s/manifest.json", dir) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		return read_json(path, out, NULL, e);
	}
	_cleanup_(cJSON_Deletep) cJSON *idx = NULL;
	int r = read_json(index, &idx, NULL, e);
	if (r < 0)
		return r;
	const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(idx, "manifests"), 0);
	const char *digest = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "digest"));
	if (!(path = blob_path(dir, true, digest)))
		return dcfs_error_set(e, EIO, "'%s' names no manifest", index);
	return read_json(path, out, NULL, e);
}

/* The layers of `manifest` read from `dir`, their diff IDs from `config`, and the image. */
static int read_image(dcfs_store *s, const char *dir, bool layout, const cJSON *manifest,
		      const char *name, dcfs_build_result *res, dcfs_error *e)
{
	const char *cdigest = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(manifest, "config"), "digest"));
	_cleanup_free_ char *cpath = blob_path(dir, layout, cdigest), *text = NULL;
	_cleanup_(cJSON_Deletep) cJSON *config = NULL;
	if (!cpath)
		return dcfs_error_set(e, EIO, "the pushed manifest names no config");
	int r = read_json(cpath, &config, &text, e);
	if (r < 0)
		return r;
	const cJSON *layers = cJSON_GetObjectItemCaseSensitive(manifest, "layers");
	const cJSON *diffs = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(config, "rootfs"), "diff_ids");
	size_t n = (size_t)cJSON_GetArraySize(layers);
	if (n != (size_t)cJSON_GetArraySize(diffs))
		return dcfs_error_set(e, EIO, "the pushed image has %zu layers and %d diff IDs", n,
				      cJSON_GetArraySize(diffs));
	_cleanup_free_ int64_t *ids = calloc(n ? n : 1, sizeof(*ids));
	if (!ids)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *digest = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetArrayItem(layers, (int)i), "digest"));
		const char *diff = cJSON_GetStringValue(cJSON_GetArrayItem(diffs, (int)i));
		_cleanup_free_ char *path = blob_path(dir, layout, digest), *source = NULL;
		if (!path || !diff || asprintf(&source, "diff:%s", diff) < 0)
			return dcfs_error_set(e, EIO, "layer %zu of the pushed image is unnamed", i + 1);
		r = dcfs_build_layer(s, source, path, dcfs_import_read_tar, &ids[i], res, e);
		if (r < 0)
			return r;
	}
	res->layers = n;
	return dcfs_image_record(s, name, text, ids, n, e);
}

static int push_and_read(dcfs_store *s, dcfs_builder_kind k, const char *id, const char *tmp,
			 const char *name, dcfs_build_result *res, dcfs_error *e)
{
	_cleanup_free_ char *dest = NULL, *out = NULL;
	if (asprintf(&dest, "dir:%s/image", tmp) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	char *const argv[] = {(char *)dcfs_build_program(k), "push", "--quiet", "--format", "oci",
			      (char *)id, dest, NULL};
	int r = dcfs_build_capture(argv, 0, &out, e);
	if (r < 0)
		return r;
	_cleanup_(cJSON_Deletep) cJSON *manifest = NULL;
	bool layout;
	if ((r = read_manifest(dest + 4, &layout, &manifest, e)) < 0)
		return r;
	return read_image(s, dest + 4, layout, manifest, name, res, e);
}

int dcfs_build_export_push(dcfs_store *s, dcfs_builder_kind k, const char *id, const char *name,
			   dcfs_build_result *res, dcfs_error *e)
{
	if (k == DCFS_BUILDER_DOCKER)
		return dcfs_error_set(e, ENOTSUP, "reading an image from docker other than from its "
				      "overlay2 storage is not implemented");
	_cleanup_free_ char *tmp = NULL;
	if (asprintf(&tmp, "%s/build-push-XXXXXX", s->tmp_path) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (!mkdtemp(tmp))
		return dcfs_error_set(e, errno, "cannot make a folder in '%s': %m", s->tmp_path);
	res->layers = res->reused = 0, res->bytes = 0; /* what a fast path began does not count */
	int r = push_and_read(s, k, id, tmp, name, res, e);
	dcfs_rm_rf(tmp);
	return r;
}
