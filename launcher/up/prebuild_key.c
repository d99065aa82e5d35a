/* Computing a configuration's prebuild key (see prebuild_key.h). */
#include "prebuild_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "jsonc.h"
#include "prebuild_git.h"

/* Commands that run after a prebuild's snapshot, and the file's own location: not part of what
 * a prebuild depends on. */
static const char *const not_keyed[] = {
	"postCreateCommand", "postStartCommand", "postAttachCommand", "configFilePath",
};

static void hash_hex(const void *buf, size_t len, char out[DCFS_HASH_HEX])
{
	dcfs_hash h;
	dcfs_hash_buf(buf, len, &h);
	dcfs_hash_to_hex(&h, out);
}

/* The Dockerfile's bytes when the configuration names one (build.dockerfile or the legacy
 * dockerFile, relative to the configuration file), else nothing. */
static int build_inputs(const dcfs_devcontainer *d, char out[DCFS_HASH_HEX], dcfs_error *e)
{
	const cJSON *build = cJSON_GetObjectItemCaseSensitive(d->config, "build");
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(build, "dockerfile"));
	if (!name)
		name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d->config, "dockerFile"));
	if (!name) {
		hash_hex("", 0, out);
		return 0;
	}
	_cleanup_free_ char *path = NULL, *data = NULL;
	const char *slash = strrchr(d->config_file, '/');
	if (asprintf(&path, "%.*s/%s", (int)(slash - d->config_file), d->config_file, name) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	size_t len = 0;
	_cleanup_fclose_ FILE *mem = open_memstream(&data, &len);
	if (!f)
		return dcfs_error_set(e, errno, "%s: cannot read '%s': %m", d->config_file, path);
	if (!mem)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	if (ferror(f))
		return dcfs_error_set(e, EIO, "%s: cannot read '%s'", d->config_file, path);
	fclose(TAKE_PTR(mem));
	hash_hex(data, len, out);
	return 0;
}

int dcfs_prebuild_key_compute(const dcfs_devcontainer *d, const char *base_digest,
			      const char *build_key, dcfs_prebuild_key *out, dcfs_error *e)
{
	*out = (dcfs_prebuild_key){0};
	_cleanup_json_ cJSON *config = cJSON_Duplicate(d->config, true);
	if (!config)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < ELEMENTSOF(not_keyed); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(config, not_keyed[i]);
	if (dcfs_json_sort_keys(config) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_free_ char *text = cJSON_PrintUnformatted(config);
	if (!text)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	hash_hex(text, strlen(text), out->config_hash);
	int r = 0;
	if (build_key)
		snprintf(out->build_hash, sizeof(out->build_hash), "%s", build_key);
	else if ((r = build_inputs(d, out->build_hash, e)) < 0)
		return r;
	snprintf(out->base_digest, sizeof(out->base_digest), "%s", base_digest);
	if (d->folder && (r = dcfs_git_tree(d->folder, out->workspace_tree, e)) < 0)
		return r;
	return dcfs_prebuild_key_combine(out, e);
}

int dcfs_prebuild_key_combine(dcfs_prebuild_key *k, dcfs_error *e)
{
	_cleanup_free_ char *all = NULL;
	int n = k->workspace_tree[0]
			? asprintf(&all, "%s\n%s\n%s\ngit-tree %s\n", k->config_hash, k->build_hash,
				   k->base_digest, k->workspace_tree)
			: asprintf(&all, "%s\n%s\n%s\n", k->config_hash, k->build_hash, k->base_digest);
	if (n < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	hash_hex(all, strlen(all), k->key);
	return 0;
}
