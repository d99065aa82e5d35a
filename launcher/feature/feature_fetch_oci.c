/* A feature published as an OCI artifact (see feature_fetch_internal.h): the manifest of the
 * reference through launcher/registry (an image index is refused: a feature is one manifest),
 * its layer of type application/vnd.devcontainers.layer.v1+tar, and that blob streamed into
 * feature_unpack.c while the registry client checks its digest; the folder is published only
 * when the digest matched. */
#include "feature_fetch_internal.h"

#include <stdio.h>
#include <string.h>

#include "jsonc.h"
#include "ref.h"

#define FEATURE_LAYER_TYPE "application/vnd.devcontainers.layer.v1+tar"

static void ref_freep(dcfs_ref *r)
{
	dcfs_ref_free(r);
}

static const char *json_str(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool is_index(const char *content_type, const cJSON *j)
{
	const char *mt = json_str(j, "mediaType");
	if (!mt || !*mt)
		mt = content_type;
	return (mt && (strstr(mt, "image.index") || strstr(mt, "manifest.list"))) ||
	       cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "manifests"));
}

/* The manifest of `ref`, parsed. A registry that could not be reached is -EHOSTUNREACH. */
static int get_manifest(dcfs_registry *reg, const dcfs_ref *ref, cJSON **json, dcfs_error *e)
{
	_cleanup_(dcfs_http_body_free) dcfs_http_body body = {0};
	_cleanup_free_ char *type = NULL;
	int r = dcfs_registry_manifest(reg, ref->digest ? ref->digest : ref->tag, &body, &type, e);
	if (r == -EIO) { /* curl's failures: no answer from the registry */
		if (e)
			e->code = EHOSTUNREACH;
		return -EHOSTUNREACH;
	}
	if (r < 0)
		return r;
	*json = cJSON_Parse(body.data ? body.data : "");
	if (!cJSON_IsObject(*json))
		return dcfs_error_set(e, EPROTO, "its manifest is not JSON");
	if (is_index(type, *json))
		return dcfs_error_set(e, EINVAL,
				      "its manifest is an image index, not a feature (a Dev Container "
				      "Feature is an OCI artifact with one manifest)");
	return 0;
}

/* The feature's layer in the manifest: its digest and size. */
static int find_layer(const cJSON *manifest, const char **digest, uint64_t *size, dcfs_error *e)
{
	const cJSON *l;
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(manifest, "layers"))
	{
		const char *mt = json_str(l, "mediaType"), *d = json_str(l, "digest");
		const cJSON *sz = cJSON_GetObjectItemCaseSensitive(l, "size");
		if (!mt || strcmp(mt, FEATURE_LAYER_TYPE))
			continue;
		dcfs_hash h;
		if (!d || strncmp(d, "sha256:", 7) || strlen(d) != 7 + 64 ||
		    !dcfs_hash_from_hex(d + 7, &h) || !cJSON_IsNumber(sz) || sz->valuedouble < 0)
			return dcfs_error_set(e, EPROTO, "its feature layer has no valid digest and size");
		if (sz->valuedouble > (double)DCFS_FEATURE_MAX_TAR)
			return dcfs_error_set(e, EFBIG, "its feature layer is larger than %llu bytes",
					      (unsigned long long)DCFS_FEATURE_MAX_TAR);
		*digest = d;
		*size = (uint64_t)sz->valuedouble;
		return 0;
	}
	return dcfs_error_set(e, ENOENT,
			      "its manifest has no layer of type " FEATURE_LAYER_TYPE
			      ": not a Dev Container Feature");
}

static ssize_t blob_read(void *opaque, const void **buf, dcfs_error *e)
{
	return dcfs_blob_reader_read(opaque, buf, e);
}

static int download(dcfs_registry *reg, const char *digest, uint64_t size, int tmp_fd,
		    int dest_fd, dcfs_error *e)
{
	_cleanup_(dcfs_blob_reader_freep) dcfs_blob_reader *b = NULL;
	int r = dcfs_blob_reader_open(reg, digest, size, &b, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *what = NULL;
	if (asprintf(&what, "layer %s", digest) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	/* the reader returns its end only once the digest has been checked */
	dcfs_feature_stream in = {.read = blob_read, .opaque = b, .what = what};
	return dcfs_feature_unpack(&in, tmp_fd, dest_fd, digest + 7, e);
}

int dcfs_feature_fetch_oci(const char *reference, bool insecure, int tmp_fd, int dest_fd,
			   char digest[DCFS_FEATURE_DIGEST_LEN], dcfs_error *e)
{
	_cleanup_(ref_freep) dcfs_ref ref = {0};
	int r = dcfs_ref_parse(reference, &ref, e);
	if (r < 0)
		return r;
	_cleanup_registry_ dcfs_registry *reg = NULL;
	r = dcfs_registry_open(&ref, insecure, &reg, e);
	if (r < 0)
		return r;
	_cleanup_json_ cJSON *manifest = NULL;
	r = get_manifest(reg, &ref, &manifest, e);
	if (r < 0)
		return r;
	const char *layer = NULL;
	uint64_t size = 0;
	r = find_layer(manifest, &layer, &size, e);
	if (r < 0)
		return r;
	snprintf(digest, DCFS_FEATURE_DIGEST_LEN, "%s", layer);
	if (dcfs_feature_unpacked(dest_fd, layer + 7))
		return 0;
	return download(reg, layer, size, tmp_fd, dest_fd, e);
}
