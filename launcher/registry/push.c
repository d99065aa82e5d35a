/* `dcfs push` (see push.h): find the image, have push_layer.c write each layer, upload the
 * blobs the registry lacks, then the config and the manifest. Requests go through the
 * registry client's settings and credentials (registry_internal.h) on a curl handle of our own,
 * answering a 401 once per request: a pull-scoped token is swapped for a push-scoped one when a
 * POST asks for it. Blobs go up in chunks of PUSH_CHUNK bytes, each PATCH naming its byte
 * range. */
#include "push.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "cleanup.h"
#include "image_table.h"
#include "jsonc.h"
#include "push_internal.h"
#include "push_memo.h"
#include "ref.h"
#include "registry.h"
#include "registry_internal.h"

#define PUSH_CHUNK (8u << 20)
#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"

typedef struct pusher {
	dcfs_store *store;
	dcfs_registry *reg;
	CURL *curl;
	char *base; /* "http://host" for relative Locations */
	const dcfs_push_opts *opts;
	dcfs_push_result *res;
	const char *registry, *repository; /* where to, for push_memo */
} pusher;

/* What a request sends: `len` bytes of `buf` or of `fd`, from `off`. */
typedef struct body {
	const char *buf;
	int fd;
	uint64_t off, len, pos;
} body;

static size_t body_read(char *dst, size_t size, size_t n, void *opaque)
{
	body *b = opaque;
	size_t want = size * n;
	if (want > b->len - b->pos)
		want = (size_t)(b->len - b->pos);
	if (want == 0)
		return 0;
	if (b->buf) {
		memcpy(dst, b->buf + b->off + b->pos, want);
	} else {
		ssize_t k = pread(b->fd, dst, want, (off_t)(b->off + b->pos));
		if (k <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)k;
	}
	b->pos += want;
	return want;
}

static size_t discard(char *data, size_t size, size_t n, void *opaque)
{
	(void)data;
	(void)opaque;
	return size * n;
}

static void setup(pusher *p, const char *method, const char *url, struct curl_slist *h, body *b)
{
	registry_setup(p->reg, p->curl, url, h);
	curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, discard);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(p->curl, CURLOPT_NOBODY, 1L);
		return;
	}
	if (b) {
		b->pos = 0;
		curl_easy_setopt(p->curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(p->curl, CURLOPT_READFUNCTION, body_read);
		curl_easy_setopt(p->curl, CURLOPT_READDATA, b);
		curl_easy_setopt(p->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)b->len);
	} else {
		curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	curl_easy_setopt(p->curl, CURLOPT_CUSTOMREQUEST, method);
}

/* Headers for a request: the client's, no Expect, and `extra` ones. */
static struct curl_slist *headers(pusher *p, const char *const *extra)
{
	struct curl_slist *h = registry_headers(p->reg, NULL);
	if (h)
		h = curl_slist_append(h, "Expect:");
	for (size_t i = 0; h && extra && extra[i]; i++)
		h = curl_slist_append(h, extra[i]);
	return h;
}

/* One request, retried after a pause when worth it; *status is the HTTP answer. */
static int perform(pusher *p, const char *method, const char *url, const char *const *extra,
		   body *b, long *status, dcfs_error *e)
{
	CURLcode rc = CURLE_OK;
	for (int attempt = 0;; attempt++) {
		struct curl_slist *h = headers(p, extra);
		if (!h)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		setup(p, method, url, h, b);
		*status = 0;
		rc = curl_easy_perform(p->curl);
		if (rc == CURLE_OK)
			curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, status);
		curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, NULL);
		curl_slist_free_all(h);
		if (!registry_retryable(rc, *status) || !registry_backoff(p->curl, attempt))
			break;
	}
	if (rc != CURLE_OK && registry_refusal(p->reg, p->curl, rc, e) < 0)
		return -EPERM;
	if (rc != CURLE_OK)
		return dcfs_error_set(e, EIO, "%s %s: %s", method, url, curl_easy_strerror(rc));
	return 0;
}

/* A request that answers one authentication challenge. */
static int request(pusher *p, const char *method, const char *url, const char *const *extra,
		   body *b, long *status, dcfs_error *e)
{
	for (int attempt = 0;; attempt++) {
		int k = perform(p, method, url, extra, b, status, e);
		if (k < 0 || *status != 401 || attempt > 0)
			return k;
		k = registry_authenticate(p->reg, p->curl, e);
		if (k <= 0)
			return k;
	}
}

/* The Location of the last answer, made absolute (malloc'd). */
static char *location(pusher *p, dcfs_error *e)
{
	struct curl_header *h = NULL;
	if (curl_easy_header(p->curl, "Location", 0, CURLH_HEADER, -1, &h) != CURLHE_OK) {
		dcfs_error_set(e, EPROTO, "upload answer without a Location");
		return NULL;
	}
	char *url = NULL;
	if (strncmp(h->value, "http://", 7) && strncmp(h->value, "https://", 8)
		    ? asprintf(&url, "%s%s", p->base, h->value) < 0
		    : !(url = strdup(h->value))) {
		dcfs_error_set(e, ENOMEM, "out of memory");
		return NULL;
	}
	return url;
}

/* ---- blobs ---------------------------------------------------------------------------------- */

/* A request without a body to the repository's blobs/`path`: its status in *status. */
static int blobs_request(pusher *p, const char *method, const char *path, long *status,
			 dcfs_error *e)
{
	_cleanup_free_ char *url = registry_url(p->reg, "blobs", path);
	if (!url)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	*status = 0;
	return request(p, method, url, NULL, NULL, status, e);
}

static int blob_exists(pusher *p, const char *digest, bool *found, dcfs_error *e)
{
	long status;
	int r = blobs_request(p, "HEAD", digest, &status, e);
	if (r < 0)
		return r;
	*found = status == 200;
	if (status == 200 || status == 404)
		return 0;
	return registry_status_error(status, "blob", e);
}

static int upload_chunk(pusher *p, char **loc, body *b, dcfs_error *e)
{
	char range[64], length[64];
	snprintf(range, sizeof(range), "Content-Range: %llu-%llu", (unsigned long long)b->off,
		 (unsigned long long)(b->off + b->len - 1));
	snprintf(length, sizeof(length), "Content-Length: %llu", (unsigned long long)b->len);
	const char *extra[] = {"Content-Type: application/octet-stream", range, length, NULL};
	long status = 0;
	int r = request(p, "PATCH", *loc, extra, b, &status, e);
	if (r < 0)
		return r;
	if (status != 202 && status != 204)
		return registry_status_error(status, "blob upload", e);
	char *next = location(p, e);
	if (!next)
		return -EPROTO;
	free(*loc);
	*loc = next;
	return 0;
}

/* Upload the blob whose bytes are `src` (a buffer or a file, `off` 0). */
static int upload(pusher *p, const char *digest, const body *src, dcfs_error *e)
{
	long status;
	int r = blobs_request(p, "POST", "uploads/", &status, e);
	if (r < 0)
		return r;
	if (status != 202)
		return registry_status_error(status, "blob upload", e);
	_cleanup_free_ char *loc = location(p, e);
	if (!loc)
		return -EPROTO;
	for (uint64_t off = 0; off < src->len; off += PUSH_CHUNK) {
		body b = *src;
		b.off = off;
		b.len = src->len - off < PUSH_CHUNK ? src->len - off : PUSH_CHUNK;
		r = upload_chunk(p, &loc, &b, e);
		if (r < 0)
			return r;
	}
	_cleanup_free_ char *done = NULL;
	if (asprintf(&done, "%s%cdigest=%s", loc, strchr(loc, '?') ? '&' : '?', digest) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	body empty = {.buf = "", .len = 0};
	const char *extra[] = {"Content-Type: application/octet-stream", NULL};
	r = request(p, "PUT", done, extra, &empty, &status, e);
	if (r < 0)
		return r;
	if (status != 201 && status != 204)
		return registry_status_error(status, "blob upload", e);
	p->res->uploaded++;
	p->res->bytes += src->len;
	return 0;
}

/* A cross-repository mount: POST ?mount=DIGEST&from=REPO. *mounted when the registry linked
 * the blob (201); any other answer means uploading it after all. */
static int mount_blob(pusher *p, const char *digest, const char *from, bool *mounted,
		      dcfs_error *e)
{
	*mounted = false;
	_cleanup_free_ char *query = NULL;
	if (asprintf(&query, "uploads/?mount=%s&from=%s", digest, from) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	long status;
	int r = blobs_request(p, "POST", query, &status, e);
	if (r < 0)
		return r;
	*mounted = status == 201;
	if (status == 202) {
		/* refused: the registry opened an upload session instead; cancel it */
		_cleanup_error_ dcfs_error ignored = {0};
		_cleanup_free_ char *session = location(p, &ignored);
		if (session)
			request(p, "DELETE", session, NULL, NULL, &status, &ignored);
	}
	return 0;
}

static int push_blob(pusher *p, const char *digest, const body *src, dcfs_error *e)
{
	bool found = false;
	int r = blob_exists(p, digest, &found, e);
	if (r >= 0 && !found)
		r = upload(p, digest, src, e);
	return r < 0 ? dcfs_error_wrap(e, "blob %s", digest) : r;
}

/* ---- the image ------------------------------------------------------------------------------ */

static int find_image(dcfs_store *s, const char *src, int64_t *id, char **config, dcfs_error *e)
{
	_cleanup_free_ char *name = NULL;
	dcfs_ref ref;
	dcfs_error ignored = {0};
	if (dcfs_ref_parse(src, &ref, &ignored) >= 0) {
		name = dcfs_ref_name(&ref);
		dcfs_ref_free(&ref);
	}
	dcfs_error_clear(&ignored);
	const char *names[] = {src, name};
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		if (!names[i])
			continue;
		_cleanup_(dcfs_image_row_free) dcfs_image_row im = {0};
		int r = dcfs_image_lookup(s, names[i], &im, e);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		*id = im.id;
		*config = TAKE_PTR(im.config);
		return 0;
	}
	return dcfs_error_set(e, ENOENT, "no image '%s' in the store", src);
}

static int image_layers(dcfs_store *s, int64_t image_id, int64_t **ids, size_t *n, dcfs_error *e)
{
	return dcfs_image_layers_get(s->db, image_id, 0, ids, n, e);
}

static cJSON *descriptor(const char *media_type, const char *digest, uint64_t size)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "mediaType", media_type);
	cJSON_AddStringToObject(d, "digest", digest);
	cJSON_AddNumberToObject(d, "size", (double)size);
	return d;
}

/* A history that names each layer, as podman and Docker expect of an image they build on (podman
 * 4.3 refuses a RUN over an image whose history counts fewer layers than it has): an imported
 * image has none, a snapshot's lacks its own layer. Entries are added for the layers the history
 * does not count; one that counts more than there are is replaced. */
static void fix_history(cJSON *c, int layers)
{
	cJSON *h = cJSON_GetObjectItemCaseSensitive(c, "history");
	int counted = 0;
	cJSON *it;
	cJSON_ArrayForEach(it, h)
		counted += !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "empty_layer"));
	if (!cJSON_IsArray(h) || counted > layers) {
		cJSON_DeleteItemFromObjectCaseSensitive(c, "history");
		h = cJSON_AddArrayToObject(c, "history");
		counted = 0;
	}
	const char *created = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "created"));
	for (; h && counted < layers; counted++) {
		cJSON *entry = cJSON_CreateObject();
		if (created)
			cJSON_AddStringToObject(entry, "created", created);
		cJSON_AddStringToObject(entry, "created_by", "dcfs (imported or snapshot layer)");
		cJSON_AddItemToArray(h, entry);
	}
}

/* The stored config with rootfs.diff_ids set, a history that counts every layer, and
 * os/architecture when it has none. */
static char *make_config(const char *stored, cJSON *diff_ids)
{
	cJSON *c = cJSON_Parse(stored);
	if (!cJSON_IsObject(c)) {
		cJSON_Delete(c);
		c = cJSON_CreateObject();
	}
	if (!cJSON_GetObjectItemCaseSensitive(c, "architecture"))
		cJSON_AddStringToObject(c, "architecture", "amd64");
	if (!cJSON_GetObjectItemCaseSensitive(c, "os"))
		cJSON_AddStringToObject(c, "os", "linux");
	cJSON_DeleteItemFromObjectCaseSensitive(c, "rootfs");
	cJSON *rootfs = cJSON_AddObjectToObject(c, "rootfs");
	cJSON_AddStringToObject(rootfs, "type", "layers");
	cJSON_AddItemToObject(rootfs, "diff_ids", diff_ids);
	fix_history(c, cJSON_GetArraySize(diff_ids));
	char *s = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	return s;
}

/* A layer pushed before (push_memo.h) need not be written when the registry has its blob or
 * can mount it from another repository. */
static int reuse_layer(pusher *p, int64_t layer_id, push_file *out, bool *reused, dcfs_error *e)
{
	*reused = false;
	push_memo m;
	int r = push_memo_find(p->store, layer_id, p->opts->compression, p->registry, p->repository,
			       &m, e);
	if (r <= 0)
		return r;
	/* a question the registry cannot answer means writing the layer after all */
	_cleanup_error_ dcfs_error ignored = {0};
	if (blob_exists(p, m.digest, reused, &ignored) < 0)
		return *reused = false, 0;
	if (!*reused && m.from[0] && !m.here) {
		if (mount_blob(p, m.digest, m.from, reused, &ignored) < 0)
			return *reused = false, 0;
		p->res->mounted += *reused;
	}
	*out = (push_file){.fd = -1, .size = m.size};
	memcpy(out->digest, m.digest, sizeof(out->digest));
	memcpy(out->diff_id, m.diff_id, sizeof(out->diff_id));
	return 0;
}

static int push_one_layer(pusher *p, int64_t layer_id, push_file *lb, dcfs_error *e)
{
	bool reused = false;
	int r = reuse_layer(p, layer_id, lb, &reused, e);
	if (r >= 0 && !reused && (r = push_layer_write(p->store, layer_id, p->opts->compression,
							 lb, e)) >= 0) {
		body b = {.fd = lb->fd, .len = lb->size};
		r = push_blob(p, lb->digest, &b, e);
		close(lb->fd);
	}
	if (r >= 0)
		r = push_memo_add(p->store, layer_id, p->opts->compression, lb->digest, lb->diff_id,
				  lb->size, p->registry, p->repository, e);
	return r;
}

static int push_layers(pusher *p, const int64_t *ids, size_t n, cJSON *layers, cJSON *diff_ids,
		       dcfs_error *e)
{
	const char *mt = p->opts->compression == DCFS_PUSH_GZIP ? OCI_LAYER_GZIP : OCI_LAYER_ZSTD;
	for (size_t i = 0; i < n; i++) {
		push_file lb;
		if (push_one_layer(p, ids[i], &lb, e) < 0)
			return dcfs_error_wrap(e, "layer %zu", i + 1);
		cJSON_AddItemToArray(layers, descriptor(mt, lb.digest, lb.size));
		cJSON_AddItemToArray(diff_ids, cJSON_CreateString(lb.diff_id));
	}
	p->res->layers = n;
	return 0;
}

static int push_manifest(pusher *p, const char *reference, cJSON *m, dcfs_error *e)
{
	_cleanup_free_ char *text = cJSON_PrintUnformatted(m);
	_cleanup_free_ char *url = registry_url(p->reg, "manifests", reference);
	if (!text || !url)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	body b = {.buf = text, .len = strlen(text)};
	const char *extra[] = {"Content-Type: " OCI_MANIFEST, NULL};
	long status = 0;
	int r = request(p, "PUT", url, extra, &b, &status, e);
	if (r < 0)
		return r;
	if (status != 201 && status != 200)
		return registry_status_error(status, "manifest", e);
	registry_digest(text, b.len, p->res->manifest);
	return 0;
}

static int push_image(pusher *p, const char *src, const char *reference, dcfs_error *e)
{
	int64_t image_id = 0;
	_cleanup_free_ char *stored = NULL;
	_cleanup_free_ int64_t *ids = NULL;
	size_t n = 0;
	int r = find_image(p->store, src, &image_id, &stored, e);
	if (r >= 0)
		r = image_layers(p->store, image_id, &ids, &n, e);
	if (r < 0)
		return r;
	_cleanup_json_ cJSON *m = cJSON_CreateObject();
	cJSON_AddNumberToObject(m, "schemaVersion", 2);
	cJSON_AddStringToObject(m, "mediaType", OCI_MANIFEST);
	cJSON *layers = cJSON_CreateArray(), *diff_ids = cJSON_CreateArray();
	r = push_layers(p, ids, n, layers, diff_ids, e);
	_cleanup_free_ char *config = r >= 0 ? make_config(stored, diff_ids) : NULL;
	if (r < 0 || !config) {
		cJSON_Delete(layers);
		cJSON_Delete(diff_ids);
		return r < 0 ? r : dcfs_error_set(e, ENOMEM, "out of memory");
	}
	char config_digest[8 + 64];
	registry_digest(config, strlen(config), config_digest);
	body b = {.buf = config, .len = strlen(config)};
	r = push_blob(p, config_digest, &b, e);
	if (r < 0) {
		cJSON_Delete(layers);
		return dcfs_error_wrap(e, "config");
	}
	cJSON_AddItemToObject(m, "config", descriptor(OCI_CONFIG, config_digest, b.len));
	cJSON_AddItemToObject(m, "layers", layers);
	return push_manifest(p, reference, m, e);
}

static int push_ref(dcfs_store *s, const char *src, const dcfs_ref *ref, const dcfs_push_opts *o,
		    dcfs_push_result *res, dcfs_error *e)
{
	_cleanup_registry_ dcfs_registry *reg = NULL;
	int r = dcfs_registry_open(ref, o->insecure, &reg, e);
	if (r < 0)
		return r;
	pusher p = {.store = s, .reg = reg, .opts = o, .res = res, .curl = curl_easy_init(),
		    .registry = ref->registry ? ref->registry : "docker.io",
		    .repository = ref->repository};
	_cleanup_free_ char *probe = registry_url(reg, "", "");
	char *v2 = probe ? strstr(probe, "/v2/") : NULL;
	if (v2)
		p.base = strndup(probe, (size_t)(v2 - probe));
	if (!p.curl || !p.base)
		r = dcfs_error_set(e, ENOMEM, "out of memory");
	else
		r = push_image(&p, src, ref->tag ? ref->tag : ref->digest, e);
	if (p.curl)
		curl_easy_cleanup(p.curl);
	free(p.base);
	return r;
}

int dcfs_push(dcfs_store *s, const char *src, const char *ref_text, const dcfs_push_opts *o,
	      dcfs_push_result *res, dcfs_error *e)
{
	*res = (dcfs_push_result){0};
	dcfs_ref ref;
	int r = dcfs_ref_parse(ref_text, &ref, e);
	if (r < 0)
		return r;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = push_ref(s, src, &ref, o, res, e);
	curl_global_cleanup();
	if (r < 0)
		dcfs_error_wrap(e, "%s", ref_text);
	dcfs_ref_free(&ref);
	return r;
}
