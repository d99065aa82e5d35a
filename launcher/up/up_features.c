/* A configuration's Dev Container Features on its image, for `up` (see
 * up_internal.h): the features resolved and ordered
 * (launcher/feature/feature.h), then, one after another, each one's layer found
 * by its key in the catalog's `feature_layers` (fs/store/feature_table.h) or
 * made by installing it (feature_install.c) over the image the ones before it
 * made.
 *
 * A feature's key is the SHA-256 of: the digest of the image below it (its
 * config's digest, which names its layers), the digest of the feature's files,
 * its option values (as JSON, keys sorted), and the remote and container users
 * its install sees -- so an unchanged feature on the same base is a lookup, and
 * a change reinstalls it and, through their base, every feature after it. The
 * image a feature makes is `localhost/dcfs-feature/<id>:<key>` (kind "image"):
 * the base's config with the feature's containerEnv in its Env and its metadata
 * entry appended to the `devcontainer.metadata` label, as the reference CLI's
 * feature build labels its image; `up` then reads the metadata of the last one
 * as the image's (launcher/config/config_image.c) and starts the container from
 * it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "feature.h"
#include "feature_table.h"
#include "hash.h"
#include "image_table.h"
#include "jsonc.h"
#include "up_internal.h"

/* The image a feature is installed over: its name, id, digest and config. */
typedef struct base {
	char *ref, *digest;
	int64_t id;
	cJSON *config;
} base;

static void base_free(base *b)
{
	free(b->ref), free(b->digest);
	cJSON_Delete(b->config);
	*b = (base){0};
}

static int base_load(up_ctx *u, const char *ref, base *b)
{
	_cleanup_(dcfs_image_row_free) dcfs_image_row im = {0};
	int r = dcfs_image_lookup(u->s, ref, &im, u->e);
	if (r == -ENOENT)
		return dcfs_error_set(u->e, ENOENT, "image '%s' is not in the store", ref);
	if (r < 0)
		return r;
	base_free(b);
	b->id = im.id;
	b->ref = strdup(im.ref);
	b->digest = TAKE_PTR(im.digest);
	b->config = cJSON_Parse(im.config);
	return b->ref && b->digest && b->config ? 0 : dcfs_error_set(u->e, ENOMEM, "out of memory");
}

static void hash_part(dcfs_hasher *h, const char *s)
{
	dcfs_hasher_update(h, s ? s : "", strlen(s ? s : "") + 1);
}

/* The feature's key (see the top of this file), in hex. */
static int feature_key(const dcfs_feature *f, const base *b, const char *remote,
		       const char *container, char key[DCFS_HASH_HEX])
{
	_cleanup_json_ cJSON *values = cJSON_Duplicate(f->values, true);
	_cleanup_free_ char *text =
		values && dcfs_json_sort_keys(values) >= 0 ? cJSON_PrintUnformatted(values) : NULL;
	if (!text)
		return -ENOMEM;
	dcfs_hasher h;
	dcfs_hasher_init(&h);
	hash_part(&h, "dcfs feature layer 1");
	hash_part(&h, b->digest);
	hash_part(&h, f->digest);
	hash_part(&h, text);
	hash_part(&h, remote);
	hash_part(&h, container);
	dcfs_hash out;
	dcfs_hasher_final(&h, &out);
	dcfs_hasher_free(&h);
	dcfs_hash_to_hex(&out, key);
	return 0;
}

static cJSON *slot(cJSON *parent, const char *name, bool array)
{
	cJSON *it = cJSON_GetObjectItemCaseSensitive(parent, name);
	if (it && (array ? cJSON_IsArray(it) : cJSON_IsObject(it)))
		return it;
	cJSON_DeleteItemFromObjectCaseSensitive(parent, name);
	it = array ? cJSON_CreateArray() : cJSON_CreateObject();
	return it && cJSON_AddItemToObject(parent, name, it) ? it : (cJSON_Delete(it), NULL);
}

/* The base's config with the feature's containerEnv in Env, its metadata entry
 * appended to the label, and its key as a label; a new creation time. */
static char *feature_config(const dcfs_feature *f, const base *b, const char *key)
{
	_cleanup_json_ cJSON *c = cJSON_Duplicate(b->config, true);
	cJSON *config = c ? slot(c, "config", false) : NULL;
	cJSON *env = config ? slot(config, "Env", true) : NULL;
	cJSON *labels = config ? slot(config, "Labels", false) : NULL;
	if (!env || !labels)
		return NULL;
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(f->json, "containerEnv"))
		if (cJSON_IsString(it) && dcfs_env_set(env, it->string, it->valuestring) < 0)
			return NULL;
	const char *old = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(labels, "devcontainer.metadata"));
	_cleanup_json_ cJSON *entries = NULL;
	if (old && dcfs_jsonc_parse(old, strlen(old), "label", &entries, NULL) >= 0 &&
	    cJSON_IsObject(entries)) {
		cJSON *one = entries;
		entries = cJSON_CreateArray();
		if (!entries || !cJSON_AddItemToArray(entries, one))
			return cJSON_Delete(one), NULL;
	}
	if (!cJSON_IsArray(entries)) {
		cJSON_Delete(entries);
		entries = cJSON_CreateArray();
	}
	cJSON *mine = dcfs_feature_metadata_entry(f);
	if (!entries || !mine || !cJSON_AddItemToArray(entries, mine))
		return cJSON_Delete(mine), NULL;
	_cleanup_free_ char *label = cJSON_PrintUnformatted(entries);
	char stamp[32];
	time_t now = time(NULL);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	cJSON_DeleteItemFromObjectCaseSensitive(labels, "devcontainer.metadata");
	cJSON_DeleteItemFromObjectCaseSensitive(labels, "dev.dcfs.feature.key");
	cJSON_DeleteItemFromObjectCaseSensitive(c, "created");
	if (!label || !cJSON_AddStringToObject(labels, "devcontainer.metadata", label) ||
	    !cJSON_AddStringToObject(labels, "dev.dcfs.feature.key", key) ||
	    !cJSON_AddStringToObject(c, "created", stamp))
		return NULL;
	return cJSON_PrintUnformatted(c);
}

/* install.sh's environment: the base's Env, the options, and the users. */
static cJSON *install_env(const dcfs_feature *f, const base *b, const char *remote,
			  const char *container)
{
	cJSON *env = cJSON_Duplicate(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(b->config, "config"), "Env"),
		true);
	if (!env)
		env = cJSON_CreateArray();
	const cJSON *it;
	int r = env ? 0 : -ENOMEM;
	cJSON_ArrayForEach(it, f->env) {
		const char *kv = cJSON_GetStringValue(it), *eq = kv ? strchr(kv, '=') : NULL;
		_cleanup_free_ char *k = eq ? strndup(kv, (size_t)(eq - kv)) : NULL;
		if (r >= 0 && k)
			r = dcfs_env_set(env, k, eq + 1);
	}
	if (r >= 0)
		r = dcfs_env_set(env, "_REMOTE_USER", remote);
	if (r >= 0)
		r = dcfs_env_set(env, "_CONTAINER_USER", container);
	if (r < 0)
		cJSON_Delete(env), env = NULL;
	return env;
}

/* The users a feature's install sees: remoteUser and containerUser as the
 * configuration and the image's metadata give them, else the image's User, else
 * root. */
static int users(up_ctx *u, const base *b, char **remote, char **container)
{
	_cleanup_json_ cJSON *metadata = NULL, *merged = NULL;
	int r = dcfs_devcontainer_image_metadata(&u->d, u->s, b->ref, &metadata, u->e);
	r = r ?: dcfs_devcontainer_merge(u->d.config, metadata, &merged, u->e);
	if (r < 0)
		return r;
	const char *image_user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(b->config, "config"), "User"));
	const char *c =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(merged, "containerUser"));
	const char *rem =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(merged, "remoteUser"));
	c = c && *c ? c : image_user && *image_user ? image_user : "root";
	*container = strdup(c);
	*remote = strdup(rem && *rem ? rem : c);
	return *container && *remote ? 0 : dcfs_error_set(u->e, ENOMEM, "out of memory");
}

/* One feature: its layer found by key, or installed; *b becomes the image it
 * made. */
static int apply(up_ctx *u, const dcfs_feature *f, size_t index, const char *remote,
		 const char *container, base *b)
{
	dcfs_error *e = u->e;
	char key[DCFS_HASH_HEX];
	if (feature_key(f, b, remote, container, key) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int64_t found = 0;
	int r = dcfs_feature_layer_find(u->s->db, key, &found, e);
	if (r < 0)
		return r;
	_cleanup_(dcfs_image_row_free) dcfs_image_row im = {0};
	if (r > 0 && dcfs_image_lookup_id(u->s, found, &im, NULL) >= 0) {
		dcfs_report_note(u->o->report, "feature %s %s: cached (%.12s)", f->id, f->version,
				 key);
		return base_load(u, im.ref, b);
	}
	_cleanup_free_ char *ref = NULL, *options = cJSON_PrintUnformatted(f->values);
	_cleanup_free_ char *config = feature_config(f, b, key);
	_cleanup_json_ cJSON *env = install_env(f, b, remote, container);
	if (asprintf(&ref, "localhost/dcfs-feature/%s:%.12s", f->id, key) < 0 || !options ||
	    !config || !env)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	dcfs_report_note(u->o->report, "feature %s %s: installing (%s)", f->id, f->version,
			 f->src.written);
	dcfs_feature_layer_meta meta = {.key = key,
					.feature_id = f->id,
					.version = f->version,
					.source = f->src.written,
					.digest = f->digest,
					.options = options,
					.config_file = u->d.config_file};
	dcfs_layer_writer_stats stats = {0};
	up_feature_job job = {.f = f,
			      .index = index,
			      .base_ref = b->ref,
			      .base_id = b->id,
			      .ref = ref,
			      .config = config,
			      .env = env,
			      .meta = &meta,
			      .remote_user = remote,
			      .container_user = container,
			      .stats = &stats};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int64_t made = 0;
	if ((r = up_feature_install(u, &job, &made)) < 0)
		return r;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dcfs_report_note(u->o->report, "feature %s %s: installed in %.1f s (%.1f MB in its layer)",
			 f->id, f->version,
			 (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
			 (double)stats.file_bytes / 1e6);
	return base_load(u, ref, b);
}

int up_features(up_ctx *u)
{
	const cJSON *features = cJSON_GetObjectItemCaseSensitive(u->d.config, "features");
	if (!features || !features->child)
		return 0;
	dcfs_error *e = u->e;
	const char *image = u->build_ref ? u->build_ref
					 : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
						   u->d.config, "image"));
	int r = up_image_name(u, image);
	if (r < 0)
		return r;
	_cleanup_(base_free) base b = {0};
	if ((r = base_load(u, u->ref, &b)) < 0)
		return r;
	_cleanup_free_ char *remote = NULL, *container = NULL;
	if ((r = users(u, &b, &remote, &container)) < 0)
		return r;
	dcfs_feature *list = NULL;
	size_t n = 0;
	if ((r = dcfs_features_resolve(u->s, u->d.config, u->d.config_file, false,
				       (dcfs_report *)u->o->report, &list, &n, e)) < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = apply(u, &list[i], i, remote, container, &b);
	dcfs_features_free(list, n);
	if (r < 0)
		return r;
	free(u->features_ref);
	u->features_ref = TAKE_PTR(b.ref);
	return 0;
}

int dcfs_up_features_metadata(dcfs_store *s, const dcfs_devcontainer *d, const dcfs_report *report,
			      cJSON **out, dcfs_error *e)
{
	_cleanup_json_ cJSON *entries = cJSON_CreateArray();
	*out = NULL;
	if (!entries)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	const cJSON *features = cJSON_GetObjectItemCaseSensitive(d->config, "features");
	dcfs_feature *list = NULL;
	size_t n = 0;
	int r = features && features->child
			? dcfs_features_resolve(s, d->config, d->config_file, false,
						(dcfs_report *)report, &list, &n, e)
			: 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		cJSON *m = dcfs_feature_metadata_entry(&list[i]);
		if (!m || !cJSON_AddItemToArray(entries, m))
			r = (cJSON_Delete(m), dcfs_error_set(e, ENOMEM, "out of memory"));
	}
	dcfs_features_free(list, n);
	r = r ?: dcfs_devcontainer_substitute(d, entries, e);
	if (r < 0)
		return r;
	*out = TAKE_PTR(entries);
	return 0;
}
