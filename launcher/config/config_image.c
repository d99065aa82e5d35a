/* Image metadata for the merged configuration (see dcfs_devcontainer_image_metadata): the
 * `devcontainer.metadata` label of the image's OCI config, read from the store's catalog (or
 * given: an engine's image inspect). */
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "devcontainer.h"
#include "image_table.h"
#include "jsonc.h"
#include "ref.h"

/* The stored OCI config of image `name`; *out NULL when the store has no such image. */
static int image_config(dcfs_store *s, const char *name, char **out, dcfs_error *e)
{
	_cleanup_(dcfs_image_row_free) dcfs_image_row image = {0};
	_cleanup_error_ dcfs_error err = {0};
	*out = NULL;
	int r = dcfs_image_lookup(s, name, &image, &err);
	if (r == -ENOENT || (r >= 0 && strcmp(image.kind, "image")))
		return 0; /* none, or a snapshot of that name */
	if (r == -ENOMEM)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (r < 0)
		return dcfs_catalog_error(s->db, e, "cannot read the catalog");
	*out = TAKE_PTR(image.config);
	return 0;
}

/* config.Labels["devcontainer.metadata"] parsed into an array; NULL when absent or bad. */
static cJSON *label_entries(const char *config_text)
{
	_cleanup_json_ cJSON *config = cJSON_Parse(config_text);
	cJSON *c = cJSON_GetObjectItemCaseSensitive(config, "config");
	if (!c)
		c = cJSON_GetObjectItemCaseSensitive(config, "Config");
	const char *label = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(c, "Labels"), "devcontainer.metadata"));
	cJSON *entries = NULL;
	if (!label || !*label ||
	    dcfs_jsonc_parse(label, strlen(label), "label", &entries, NULL) < 0)
		return NULL;
	if (cJSON_IsObject(entries)) {
		cJSON *arr = cJSON_CreateArray();
		if (arr && cJSON_AddItemToArray(arr, entries))
			return arr;
		cJSON_Delete(arr);
	} else if (cJSON_IsArray(entries)) {
		return entries;
	}
	cJSON_Delete(entries);
	return NULL;
}

int dcfs_devcontainer_image_metadata(const dcfs_devcontainer *d, dcfs_store *s, const char *image,
				     cJSON **out, dcfs_error *e)
{
	*out = NULL;
	if (!image)
		image = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d->config, "image"));
	dcfs_ref ref;
	if (!image || dcfs_ref_parse(image, &ref, NULL) < 0)
		return 0;
	_cleanup_free_ char *name = dcfs_ref_name(&ref);
	dcfs_ref_free(&ref);
	if (!name)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_free_ char *config = NULL;
	int r = image_config(s, name, &config, e);
	if (r < 0 || !config)
		return r;
	return dcfs_devcontainer_config_metadata(d, config, out, e);
}

int dcfs_devcontainer_config_metadata(const dcfs_devcontainer *d, const char *config_text,
				      cJSON **out, dcfs_error *e)
{
	*out = NULL;
	_cleanup_json_ cJSON *entries = label_entries(config_text);
	int r;
	if (entries && (r = dcfs_devcontainer_substitute(d, entries, e)) < 0)
		return r;
	*out = TAKE_PTR(entries);
	return 0;
}
