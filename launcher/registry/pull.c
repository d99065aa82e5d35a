/* `dcfs pull` (see pull.h): resolve the manifest, fetch the config, have pull_layers.c stream
 * the layers into the store, record the image. */
#include "pull.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "cleanup.h"
#include "hash.h"
#include "image_record.h"
#include "image_list.h"
#include "jsonc.h"
#include "pull_internal.h"
#include "ref.h"
#include "registry_internal.h"

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool valid_digest(const char *d)
{
	dcfs_hash h;
	return d && !strncmp(d, "sha256:", 7) && strlen(d) == 7 + 64 && dcfs_hash_from_hex(d + 7, &h);
}

static bool is_index(const char *content_type, const cJSON *j)
{
	const char *mt = json_str(j, "mediaType");
	if (!mt || !*mt)
		mt = content_type;
	if (mt && (strstr(mt, "image.index") || strstr(mt, "manifest.list")))
		return true;
	return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "manifests"));
}

/* The linux/amd64 entry of an index. */
static int pick_platform(const cJSON *index, char **digest, dcfs_error *e)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(index, "manifests"))
	{
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "platform");
		const char *os = json_str(p, "os"), *arch = json_str(p, "architecture");
		const char *d = json_str(m, "digest");
		if (os && arch && !strcmp(os, "linux") && !strcmp(arch, "amd64") && valid_digest(d)) {
			*digest = strdup(d);
			return *digest ? 0 : dcfs_error_set(e, ENOMEM, "out of memory");
		}
	}
	return dcfs_error_set(e, ENOENT, "no linux/amd64 image in the index");
}

static int get_json(puller *p, const char *reference, cJSON **json, bool *index, dcfs_error *e)
{
	_cleanup_(dcfs_http_body_free) dcfs_http_body body = {0};
	_cleanup_free_ char *type = NULL;
	int r = dcfs_registry_manifest(p->reg, reference, &body, &type, e);
	if (r < 0)
		return r;
	*json = cJSON_Parse(body.data ? body.data : "");
	if (!cJSON_IsObject(*json))
		return dcfs_error_set(e, EPROTO, "manifest %s is not JSON", reference);
	*index = is_index(type, *json);
	registry_digest(body.data, body.len, p->res->manifest);
	return 0;
}

static int check_manifest(const cJSON *m, dcfs_error *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "schemaVersion");
	if (!cJSON_IsNumber(v) || v->valueint != 2)
		return dcfs_error_set(e, ENOTSUP, "unsupported manifest (schema version 2 expected)");
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(m, "config");
	if (!valid_digest(json_str(cfg, "digest")) ||
	    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(m, "layers")))
		return dcfs_error_set(e, EPROTO, "malformed manifest: no config or layers");
	const cJSON *l;
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(m, "layers"))
	{
		const char *mt = json_str(l, "mediaType");
		if (!valid_digest(json_str(l, "digest")))
			return dcfs_error_set(e, EPROTO, "malformed manifest: bad layer digest");
		if (mt && !strstr(mt, "tar") && !strstr(mt, "rootfs.diff"))
			return dcfs_error_set(e, ENOTSUP, "unsupported layer type '%s'", mt);
	}
	return 0;
}

/* The image manifest for `reference`, through an index when there is one. */
static int resolve(puller *p, const char *reference, cJSON **out, dcfs_error *e)
{
	_cleanup_json_ cJSON *j = NULL;
	bool index = false;
	int r = get_json(p, reference, &j, &index, e);
	if (r < 0)
		return r;
	if (index) {
		_cleanup_free_ char *digest = NULL;
		r = pick_platform(j, &digest, e);
		cJSON_Delete(TAKE_PTR(j));
		if (r >= 0)
			r = get_json(p, digest, &j, &index, e);
		if (r >= 0 && index)
			r = dcfs_error_set(e, EPROTO, "index %s points to another index", digest);
		if (r < 0)
			return r;
	}
	r = check_manifest(j, e);
	if (r < 0)
		return r;
	*out = TAKE_PTR(j);
	return 0;
}

static int pull_image(puller *p, const dcfs_ref *ref, dcfs_error *e)
{
	_cleanup_json_ cJSON *m = NULL;
	int r = resolve(p, ref->digest ? ref->digest : ref->tag, &m, e);
	if (r < 0)
		return r;
	const char *config_digest = json_str(cJSON_GetObjectItemCaseSensitive(m, "config"), "digest");
	_cleanup_(dcfs_http_body_free) dcfs_http_body config = {0};
	/* a config the store holds already (same bytes, checked by hash) is not fetched again */
	r = dcfs_image_config_by_digest(p->store, config_digest, &config.data, e);
	if (r == 0)
		r = dcfs_registry_blob(p->reg, config_digest, &config, e);
	if (r < 0)
		return dcfs_error_wrap(e, "config");
	cJSON *cj = cJSON_Parse(config.data ? config.data : "");
	bool ok = cJSON_IsObject(cj);
	cJSON_Delete(cj);
	if (!ok)
		return dcfs_error_set(e, EPROTO, "config %s is not JSON", config_digest);
	_cleanup_free_ int64_t *ids = NULL;
	r = pull_layers(p, m, &ids, e);
	if (r < 0)
		return r;
	return dcfs_image_record(p->store, p->res->name, config.data, ids, p->res->layers, e);
}

static int pull_ref(dcfs_store *s, const dcfs_ref *ref, const dcfs_pull_opts *o,
		    dcfs_pull_result *res, dcfs_error *e)
{
	_cleanup_registry_ dcfs_registry *reg = NULL;
	int r = dcfs_registry_open(ref, o->insecure, &reg, e);
	if (r < 0)
		return r;
	puller p = {.store = s, .reg = reg, .opts = o, .res = res};
	return pull_image(&p, ref, e);
}

int dcfs_pull(dcfs_store *s, const char *ref_text, const dcfs_pull_opts *o, dcfs_pull_result *res,
	      dcfs_error *e)
{
	*res = (dcfs_pull_result){0};
	dcfs_ref ref;
	int r = dcfs_ref_parse(ref_text, &ref, e);
	if (r < 0)
		return r;
	res->name = dcfs_ref_name(&ref);
	if (!res->name) {
		dcfs_ref_free(&ref);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	curl_global_init(CURL_GLOBAL_DEFAULT); /* before any download thread starts */
	r = pull_ref(s, &ref, o, res, e);
	curl_global_cleanup();
	if (r < 0)
		dcfs_error_wrap(e, "%s", ref_text);
	dcfs_ref_free(&ref);
	return r;
}

void dcfs_pull_result_free(dcfs_pull_result *res)
{
	free(res->name);
	res->name = NULL;
}
