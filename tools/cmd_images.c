/* dcfs images: the images in the store, like `docker images`. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stddef.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "image_list.h"

/* Split "name:tag[@digest]" for the REPOSITORY and TAG columns. */
static void split_ref(const char *ref, char *repo, size_t repo_len, const char **tag)
{
	const char *at = strchr(ref, '@');
	size_t end = at ? (size_t)(at - ref) : strlen(ref);
	const char *colon = memrchr(ref, ':', end);
	const char *slash = memrchr(ref, '/', end);
	if (colon && (!slash || colon > slash)) {
		snprintf(repo, repo_len, "%.*s", (int)(colon - ref), ref);
		*tag = colon + 1;
	} else {
		snprintf(repo, repo_len, "%.*s", (int)end, ref);
		*tag = "<none>";
	}
}

static void print_json(const void *items, size_t n)
{
	const dcfs_image_info *list = items;
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "ref", list[i].ref);
		cJSON_AddStringToObject(o, "kind", list[i].kind);
		cJSON_AddStringToObject(o, "digest", list[i].digest);
		cJSON_AddNumberToObject(o, "created", (double)list[i].created);
		cJSON_AddNumberToObject(o, "lastUsed", (double)list[i].last_used);
		cJSON_AddNumberToObject(o, "layers", list[i].layers);
		cJSON_AddNumberToObject(o, "size", (double)list[i].size);
		cJSON_AddNumberToObject(o, "sharedSize", (double)list[i].shared);
		cJSON_AddNumberToObject(o, "uniqueSize", (double)list[i].unique);
		cJSON_AddItemToArray(arr, o);
	}
	char *s = cJSON_Print(arr);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(arr);
}

static void print_table(const void *items, size_t n)
{
	const dcfs_image_info *list = items;
	cli_table t;
	cli_table_init(&t, 5);
	cli_table_row(&t, "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
	for (size_t i = 0; i < n; i++) {
		char repo[256], id[13], age[32], size[16];
		const char *tag;
		split_ref(list[i].ref, repo, sizeof(repo), &tag);
		const char *hex = strchr(list[i].digest, ':');
		snprintf(id, sizeof(id), "%s", hex ? hex + 1 : list[i].digest);
		cli_human_age(list[i].created, age);
		cli_human_size(list[i].size, size);
		cli_table_row(&t, repo, tag, id, age, size);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

/* The list as cli_list takes it. */
static int read_images(dcfs_store *s, void **list, size_t *n, dcfs_error *e)
{
	dcfs_image_info *l = NULL;
	int r = dcfs_image_list_list(s, "image", &l, n, e);
	*list = l;
	return r;
}

static void free_images(void *list, size_t n)
{
	dcfs_image_list_free(list, n);
}

int cmd_images(int argc, char **argv, dcfs_cli *cli)
{
	static const cli_listing images = {.read = read_images, .free = free_images,
					   .print_json = print_json, .print_table = print_table,
					   .item_size = sizeof(dcfs_image_info),
					   .ref_offset = offsetof(dcfs_image_info, ref)};
	return cli_list(cli, argc, argv, &images);
}
