/* Reading a built image into the store straight from the builder's overlay storage (the fast
 * path). `podman image inspect ID` (`docker image inspect` for docker) gives the image's diff
 * IDs, bottom first, and its GraphDriver: overlay (overlay2) with LowerDir (colon-separated, top
 * first) and UpperDir, one folder per layer. Each layer is stored with the source
 * "diff:sha256:...": one already stored is reused without reading; another is read from its
 * diff folder (whiteouts and opaque directories as overlayfs keeps them) and committed. The
 * config is the builder's exact blob (its SHA-256 is the image ID) when it can be read from the
 * storage, else one assembled from the inspect output (build_config.c). Anything this cannot
 * read (another driver, a buildah without podman to inspect, metacopy or redirect attributes)
 * is -EXDEV: the caller reads the image through a push instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "build_config.h"
#include "build_internal.h"
#include "cleanup.h"
#include "hash.h"
#include "image_record.h"
#include "import.h"
#include "layer_writer.h"

#define CONFIG_MAX (16u << 20)

DEFINE_TRIVIAL_CLEANUP(cJSON *, cJSON_Delete)

int dcfs_build_layer(dcfs_store *s, const char *source, const char *path,
		     int (*read)(dcfs_layer_writer *in, const char *path, dcfs_error *e),
		     int64_t *layer_id, dcfs_build_result *res, dcfs_error *e)
{
	int r = dcfs_image_find_layer(s, source, layer_id, e);
	if (r < 0)
		return r;
	if (*layer_id) {
		res->reused++;
		return 0;
	}
	_cleanup_ingest_ dcfs_layer_writer *in = NULL;
	if ((r = dcfs_layer_writer_new(s, "file", &in, e)) < 0 || (r = read(in, path, e)) < 0)
		return r;
	const dcfs_layer_writer_stats *st = NULL;
	if ((r = dcfs_layer_writer_commit_layer(in, source, layer_id, &st, e)) < 0)
		return r;
	res->bytes += st->file_bytes;
	return 0;
}

/* The inspect output of image `id`: its one object, taken out of the array. */
static int inspect(dcfs_builder_kind k, const char *id, cJSON **out, dcfs_error *e)
{
	const char *prog = k == DCFS_BUILDER_DOCKER ? "docker" : "podman";
	if (k == DCFS_BUILDER_BUILDAH && !dcfs_build_on_path("podman"))
		return dcfs_error_set(e, EXDEV, "buildah's images are inspected with podman, which "
				      "is not installed");
	char *const argv[] = {(char *)prog, "image", "inspect", (char *)id, NULL};
	_cleanup_free_ char *text = NULL;
	int r = dcfs_build_capture(argv, 0, &text, e);
	if (r < 0)
		return r;
	_cleanup_(cJSON_Deletep) cJSON *all = cJSON_Parse(text);
	if (!cJSON_IsArray(all) || !cJSON_IsObject(cJSON_GetArrayItem(all, 0)))
		return dcfs_error_set(e, EIO, "%s image inspect %s: not an image", prog, id);
	*out = cJSON_DetachItemFromArray(all, 0);
	return 0;
}

typedef struct layer_dirs {
	char **dirs; /* bottom first */
	size_t n;
} layer_dirs;

static void layer_dirs_free(layer_dirs *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->dirs[i]);
	free(d->dirs);
}

/* The folders of the GraphDriver's LowerDir (top first) and UpperDir, bottom first. */
static int graph_dirs(const cJSON *img, layer_dirs *d, dcfs_error *e)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(img, "GraphDriver");
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "Name"));
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(g, "Data");
	const char *lower = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "LowerDir"));
	const char *upper = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "UpperDir"));
	if (!name || (strcmp(name, "overlay") && strcmp(name, "overlay2")) || !upper)
		return dcfs_error_set(e, EXDEV, "the storage driver is %s, not overlay",
				      name ? name : "unknown");
	size_t n = 1;
	for (const char *p = lower; p && *p; p++)
		n += *p == ':';
	n += lower && *lower;
	if (!(d->dirs = calloc(n, sizeof(char *))))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	d->n = n;
	size_t slot = n - 1; /* LowerDir is top first: it fills the slots below UpperDir's */
	for (const char *p = lower; p && *p;) {
		size_t len = strcspn(p, ":");
		if (!(d->dirs[--slot] = strndup(p, len)))
			return dcfs_error_set(e, ENOMEM, "out of memory");
		p += len + (p[len] == ':');
	}
	if (slot)
		return dcfs_error_set(e, EXDEV, "LowerDir has empty entries: '%s'", lower);
	if (!(d->dirs[n - 1] = strdup(upper)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

/* The config blob the builder keeps for `id` beside its layers, when it is there and its
 * SHA-256 is `id`: podman's GRAPHROOT/overlay-images/ID/=base64("sha256:ID"), Docker's
 * ROOT/image/overlay2/imagedb/content/sha256/ID (the root being three folders above a diff). */
static char *stored_config(dcfs_builder_kind k, const char *upper, const char *id)
{
	_cleanup_free_ char *root = strdup(upper), *path = NULL, *text = NULL;
	for (int i = 0; root && i < 3; i++) {
		char *slash = strrchr(root, '/');
		if (slash)
			*slash = 0;
	}
	if (!root)
		return NULL;
	int n;
	if (k == DCFS_BUILDER_DOCKER) {
		n = asprintf(&path, "%s/image/overlay2/imagedb/content/sha256/%s", root, id);
	} else {
		char key[8 + 64], b64[4 * sizeof(key) / 3 + 4];
		snprintf(key, sizeof(key), "sha256:%s", id);
		EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)key, (int)strlen(key));
		n = asprintf(&path, "%s/overlay-images/%s/=%s", root, id, b64);
	}
	_cleanup_error_ dcfs_error ignored = {0};
	size_t len;
	if (n < 0 || dcfs_build_read_file(path, CONFIG_MAX, &text, &len, &ignored) < 0)
		return NULL;
	dcfs_hash h;
	char hex[DCFS_HASH_HEX];
	dcfs_hash_buf(text, len, &h);
	dcfs_hash_to_hex(&h, hex);
	return strcmp(hex, id) ? NULL : TAKE_PTR(text);
}

/* Every layer of `img` read (or found) from its folder, bottom first, into ids[]. */
static int read_layers(dcfs_store *s, const cJSON *img, const layer_dirs *d, int64_t *ids,
		       dcfs_build_result *res, dcfs_error *e)
{
	const cJSON *diffs = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(img, "RootFS"), "Layers");
	if ((size_t)cJSON_GetArraySize(diffs) != d->n)
		return dcfs_error_set(e, EXDEV, "%d layers in %zu folders",
				      cJSON_GetArraySize(diffs), d->n);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, diffs)
	{
		const char *diff = cJSON_GetStringValue(it);
		_cleanup_free_ char *source = NULL;
		if (!diff || asprintf(&source, "diff:%s", diff) < 0)
			return dcfs_error_set(e, EIO, "layer %zu has no diff ID", i + 1);
		int r = dcfs_build_layer(s, source, d->dirs[i], dcfs_import_read_diff, &ids[i], res, e);
		if (r < 0)
			return r;
		i++;
	}
	res->layers = d->n;
	return 0;
}

int dcfs_build_export_overlay(dcfs_store *s, dcfs_builder_kind k, const char *id, const char *name,
			      dcfs_build_result *res, dcfs_error *e)
{
	_cleanup_(cJSON_Deletep) cJSON *img = NULL;
	_cleanup_(layer_dirs_free) layer_dirs d = {0};
	int r = inspect(k, id, &img, e);
	if (r >= 0)
		r = graph_dirs(img, &d, e);
	if (r < 0)
		return r;
	_cleanup_free_ int64_t *ids = calloc(d.n, sizeof(*ids));
	if (!ids)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if ((r = read_layers(s, img, &d, ids, res, e)) < 0)
		return r;
	_cleanup_free_ char *config = stored_config(k, d.dirs[d.n - 1], id);
	if (!config && !(config = dcfs_build_config_from_inspect(img)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return dcfs_image_record(s, name, config, ids, d.n, e);
}
