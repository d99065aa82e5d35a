/* dcfs snapshots: the snapshots in the store, per configuration, newest first: what each was
 * taken from and at which lifecycle stage, its own size (with its workspace changes), and
 * whether a container uses it or retention has made it reclaimable.
 *
 *   dcfs snapshots [--json] [-q]
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "cleanup.h"
#include "cli.h"
#include "snapshot.h"

const char *cli_snapshot_config(const dcfs_snapshot *sn)
{
	return *sn->config_file ? sn->config_file : "(pulled: made elsewhere)";
}

const char *cli_snapshot_status(const dcfs_snapshot *sn)
{
	if (sn->used_by)
		return "in use";
	return sn->reclaimable ? "reclaimable" : "kept";
}

static void print_json(const void *items, size_t n)
{
	const dcfs_snapshot *list = items;
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		const dcfs_snapshot *sn = &list[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "ref", sn->ref);
		cJSON_AddStringToObject(o, "origin", sn->origin);
		cJSON_AddStringToObject(o, "stage", sn->stage);
		cJSON_AddStringToObject(o, "base", sn->base_ref);
		cJSON_AddStringToObject(o, "baseDigest", sn->base_digest);
		cJSON_AddStringToObject(o, "folder", sn->folder);
		cJSON_AddStringToObject(o, "configFile", sn->config_file);
		cJSON_AddStringToObject(o, "key", sn->key);
		cJSON_AddNumberToObject(o, "created", (double)(sn->created_ns / 1000000000));
		cJSON_AddNumberToObject(o, "size", (double)sn->size);
		cJSON_AddBoolToObject(o, "reclaimable", sn->reclaimable);
		/* a prebuild of a git checkout: the tree, and the bytes of its workspace changes */
		cJSON_AddStringToObject(o, "workspaceTree", sn->workspace_tree);
		cJSON_AddNumberToObject(o, "workspaceSize", (double)sn->workspace_size);
		if (sn->used_by)
			cJSON_AddStringToObject(o, "usedBy", sn->used_by);
		cJSON_AddItemToArray(arr, o);
	}
	_cleanup_free_ char *text = cJSON_Print(arr);
	if (text)
		puts(text);
	cJSON_Delete(arr);
}

static void print_table(const void *items, size_t n)
{
	const dcfs_snapshot *list = items;
	cli_table t;
	cli_table_init(&t, 8);
	cli_table_row(&t, "SNAPSHOT", "CONFIGURATION", "ORIGIN", "STAGE", "KEY", "CREATED", "SIZE",
		      "STATUS");
	for (size_t i = 0; i < n; i++) {
		const dcfs_snapshot *sn = &list[i];
		char size[16], age[32], key[13];
		cli_human_size(sn->size + sn->workspace_size, size);
		cli_human_age(sn->created_ns / 1000000000, age);
		snprintf(key, sizeof(key), "%.12s", sn->key);
		cli_table_row(&t, sn->ref, cli_snapshot_config(sn), sn->origin, sn->stage, key, age,
			      size, cli_snapshot_status(sn));
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

/* The list as cli_list takes it. */
static int read_snapshots(dcfs_store *s, void **list, size_t *n, dcfs_error *e)
{
	dcfs_snapshot *l = NULL;
	int r = dcfs_snapshot_list(s, &l, n, e);
	*list = l;
	return r;
}

static void free_snapshots(void *list, size_t n)
{
	dcfs_snapshot_list_free(list, n);
}

int cmd_snapshots(int argc, char **argv, dcfs_cli *cli)
{
	static const cli_listing snapshots = {.read = read_snapshots, .free = free_snapshots,
					      .print_json = print_json, .print_table = print_table,
					      .item_size = sizeof(dcfs_snapshot),
					      .ref_offset = offsetof(dcfs_snapshot, ref)};
	return cli_list(cli, argc, argv, &snapshots);
}
