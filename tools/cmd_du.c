/* dcfs du: disk usage in Docker's `system df` shape, read from the catalog's sums; a running
 * container's writes measured as they are now (its upper folder); snapshots and images built
 * from Dockerfiles and Dev Container Features' layers listed per configuration. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"
#include "volumes.h"
#include "build_table.h"
#include "du.h"
#include "image_list.h"
#include "snapshot.h"

typedef struct row_def {
	const char *type, *key;
	size_t offset;
} row_def;

static const row_def rows[] = {
	{"Images", "images", offsetof(dcfs_du, images)},
	{"Snapshots", "snapshots", offsetof(dcfs_du, snapshots)},
	{"Containers", "containers", offsetof(dcfs_du, containers)},
	{"Volumes", "volumes", offsetof(dcfs_du, volumes)},
	{"Workspaces", "workspaces", offsetof(dcfs_du, workspaces)},
	{"Chunk cache", "chunks", offsetof(dcfs_du, chunks)},
};

static const dcfs_du_row *row_of(const dcfs_du *d, size_t i)
{
	return (const dcfs_du_row *)((const char *)d + rows[i].offset);
}

static void snapshots_json(cJSON *o, const dcfs_snapshot *list, size_t n);

static void builds_json(cJSON *o, const dcfs_build_info *b, size_t nb,
			const dcfs_image_info *imgs, size_t n);

/* What du lists besides the sums: the images (all with -v; those of builds always), the
 * snapshots, the builds and the feature layers. */
typedef struct du_lists {
	dcfs_image_info *imgs;
	size_t n;
	dcfs_snapshot *snaps;
	size_t nsnaps;
	dcfs_build_info *builds;
	size_t nbuilds;
	dcfs_feature_layer_info *features;
	size_t nfeatures;
	cJSON *engine, *unreachable; /* what dcfs made in engines; engines that did not answer */
} du_lists;

static void print_json(const dcfs_du *d, const du_lists *l, bool verbose)
{
	dcfs_image_info *imgs = l->imgs;
	size_t n = l->n;
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const dcfs_du_row *r = row_of(d, i);
		cJSON *j = cJSON_AddObjectToObject(o, rows[i].key);
		cJSON_AddNumberToObject(j, "total", (double)r->total);
		cJSON_AddNumberToObject(j, "active", (double)r->active);
		cJSON_AddNumberToObject(j, "size", (double)r->size);
		cJSON_AddNumberToObject(j, "reclaimable", (double)r->reclaimable);
	}
	cJSON *ch = cJSON_GetObjectItem(o, "chunks");
	cJSON_AddNumberToObject(ch, "plain", (double)d->chunk_plain);
	cJSON_AddNumberToObject(ch, "stored", (double)d->chunk_stored);
	cJSON_AddNumberToObject(ch, "logical", (double)d->logical);
	cJSON_AddNumberToObject(ch, "unique", (double)d->unique);
	cJSON *ul = cJSON_AddObjectToObject(o, "unreferencedLayers");
	cJSON_AddNumberToObject(ul, "total", (double)d->unref_layers);
	cJSON_AddNumberToObject(ul, "size", (double)d->unref_layer_bytes);
	if (verbose) {
		cJSON *arr = cJSON_AddArrayToObject(o, "imageList");
		for (size_t i = 0; i < n; i++) {
			cJSON *im = cJSON_CreateObject();
			cJSON_AddStringToObject(im, "ref", imgs[i].ref);
			cJSON_AddStringToObject(im, "kind", imgs[i].kind);
			cJSON_AddNumberToObject(im, "size", (double)imgs[i].size);
			cJSON_AddNumberToObject(im, "sharedSize", (double)imgs[i].shared);
			cJSON_AddNumberToObject(im, "uniqueSize", (double)imgs[i].unique);
			cJSON_AddItemToArray(arr, im);
		}
	}
	snapshots_json(o, l->snaps, l->nsnaps);
	builds_json(o, l->builds, l->nbuilds, imgs, n);
	du_features_json(o, l->features, l->nfeatures);
	cJSON_AddItemToObject(o, "engineList", cJSON_Duplicate(l->engine, 1));
	char *s = cJSON_Print(o);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
}

/* Sizes for people on a terminal, exact bytes otherwise (pipes, scripts, tests). */
static void size_cell(uint64_t v, bool human, char out[32])
{
	if (human)
		cli_human_size(v, out);
	else
		snprintf(out, 32, "%llu", (unsigned long long)v);
}

static void print_table(const dcfs_du *d, bool human)
{
	cli_table t;
	cli_table_init(&t, 5);
	cli_table_row(&t, "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const dcfs_du_row *r = row_of(d, i);
		char total[24], active[24], size[32], recl[32], pct[48];
		snprintf(total, sizeof(total), "%llu", (unsigned long long)r->total);
		snprintf(active, sizeof(active), "%llu", (unsigned long long)r->active);
		size_cell(r->size, human, size);
		size_cell(r->reclaimable, human, recl);
		if (r->size)
			snprintf(pct, sizeof(pct), "%s (%d%%)", recl, (int)(r->reclaimable * 100 / r->size));
		else
			snprintf(pct, sizeof(pct), "%s", recl);
		cli_table_row(&t, rows[i].type, total, active, size, pct);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	char plain[32], stored[32], logical[32], unique[32];
	size_cell(d->chunk_plain, human, plain);
	size_cell(d->chunk_stored, human, stored);
	size_cell(d->logical, human, logical);
	size_cell(d->unique, human, unique);
	printf("\nChunk cache: %s plain in %s stored (compression %.2fx); %s in images, %s distinct"
	       " (deduplication %.2fx)\n",
	       plain, stored, d->chunk_stored ? (double)d->chunk_plain / (double)d->chunk_stored : 1.0,
	       logical, unique, d->unique ? (double)d->logical / (double)d->unique : 1.0);
	if (d->unref_layers) {
		char bytes[32];
		size_cell(d->unref_layer_bytes, human, bytes);
		printf("Layers no image holds: %llu (%s of files), reclaimable with 'dcfs prune'\n",
		       (unsigned long long)d->unref_layers, bytes);
	}
}

/* Snapshots per configuration (the file named once, on its newest), newest first. */
static void print_snapshots(const dcfs_snapshot *list, size_t n, bool human)
{
	if (!n)
		return;
	printf("\nSnapshots per configuration:\n\n");
	cli_table t;
	cli_table_init(&t, 6);
	cli_table_row(&t, "CONFIGURATION", "SNAPSHOT", "STAGE", "CREATED", "SIZE", "STATUS");
	for (size_t i = 0; i < n; i++) {
		const dcfs_snapshot *sn = &list[i];
		bool first = i == 0 || strcmp(list[i - 1].config_file, sn->config_file);
		char size[32], age[32];
		size_cell(sn->size + sn->workspace_size, human, size); /* with its workspace changes */
		cli_human_age(sn->created_ns / 1000000000, age);
		cli_table_row(&t, first ? cli_snapshot_config(sn) : "", sn->ref, sn->stage, age, size,
			      cli_snapshot_status(sn));
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

static void snapshots_json(cJSON *o, const dcfs_snapshot *list, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "snapshotList");
	for (size_t i = 0; i < n; i++) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "configFile", list[i].config_file);
		cJSON_AddStringToObject(j, "ref", list[i].ref);
		cJSON_AddStringToObject(j, "origin", list[i].origin);
		cJSON_AddStringToObject(j, "stage", list[i].stage);
		cJSON_AddNumberToObject(j, "created", (double)(list[i].created_ns / 1000000000));
		cJSON_AddNumberToObject(j, "size", (double)list[i].size);
		cJSON_AddNumberToObject(j, "workspaceSize", (double)list[i].workspace_size);
		cJSON_AddStringToObject(j, "status", cli_snapshot_status(&list[i]));
		cJSON_AddItemToArray(arr, j);
	}
}

static uint64_t image_size(const dcfs_image_info *imgs, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (imgs[i].id == id)
			return imgs[i].size;
	return 0;
}

/* Images built from Dockerfiles, per configuration (the file named once), newest first. */
static void print_builds(const dcfs_build_info *b, size_t nb, const dcfs_image_info *imgs,
			 size_t n, bool human)
{
	if (!nb)
		return;
	printf("\nBuilt images per configuration:\n\n");
	cli_table t;
	cli_table_init(&t, 6);
	cli_table_row(&t, "CONFIGURATION", "IMAGE", "BUILDER", "CREATED", "SIZE", "USED BY");
	for (size_t i = 0; i < nb; i++) {
		bool first = i == 0 || strcmp(b[i - 1].config_file, b[i].config_file);
		char size[32], age[32];
		size_cell(image_size(imgs, n, b[i].image_id), human, size);
		cli_human_age(b[i].created, age);
		cli_table_row(&t, first ? b[i].config_file : "", b[i].ref, b[i].builder, age, size,
			      b[i].used_by ? b[i].used_by : "-");
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

static void builds_json(cJSON *o, const dcfs_build_info *b, size_t nb,
			const dcfs_image_info *imgs, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "buildList");
	for (size_t i = 0; i < nb; i++) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "configFile", b[i].config_file);
		cJSON_AddStringToObject(j, "ref", b[i].ref);
		cJSON_AddStringToObject(j, "key", b[i].key);
		cJSON_AddStringToObject(j, "builder", b[i].builder);
		cJSON_AddNumberToObject(j, "created", (double)b[i].created);
		cJSON_AddNumberToObject(j, "size", (double)image_size(imgs, n, b[i].image_id));
		if (b[i].used_by)
			cJSON_AddStringToObject(j, "usedBy", b[i].used_by);
		cJSON_AddItemToArray(arr, j);
	}
}

static void print_images(dcfs_image_info *imgs, size_t n, bool human)
{
	printf("\nImages space usage:\n\n");
	cli_table t;
	cli_table_init(&t, 5);
	cli_table_row(&t, "REF", "KIND", "SIZE", "SHARED SIZE", "UNIQUE SIZE");
	for (size_t i = 0; i < n; i++) {
		char size[32], shared[32], unique[32];
		size_cell(imgs[i].size, human, size);
		size_cell(imgs[i].shared, human, shared);
		size_cell(imgs[i].unique, human, unique);
		cli_table_row(&t, imgs[i].ref, imgs[i].kind, size, shared, unique);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

/* A running container's writes grow while it runs; the catalog has them as of its last `up`
 * or `down`. Its upper folder is measured now instead (a walk of what it wrote, not of its
 * image), in list[].upper_bytes and d->containers. Without the right to read the folders (not
 * root) the catalog's figures stand, and a note says so. */
static void measure_running(dcfs_store *s, dcfs_du *d, dcfs_container *list, size_t n)
{
	bool denied = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].state, "running") || dcfs_container_on_engine(&list[i]))
			continue; /* an engine's: engine_sizes() */
		_cleanup_free_ char *upper = dcfs_container_path(s, list[i].id, "upper");
		_cleanup_error_ dcfs_error ignored = {0};
		uint64_t now = 0;
		if (!upper || dcfs_tree_bytes(upper, &now, &ignored) < 0) {
			denied = denied || ignored.code == EACCES;
			continue;
		}
		d->containers.size += now - (uint64_t)list[i].upper_bytes;
		list[i].upper_bytes = (int64_t)now;
	}
	if (denied)
		fprintf(stderr, "dcfs: du: running containers counted as of their last start (reading "
				"their writes needs root)\n");
}

/* The engines' containers as the engines size them now (what dcfs made there). */
static void engine_sizes(dcfs_du *d, dcfs_container *list, size_t n, const cJSON *usage)
{
	for (size_t i = 0; i < n; i++) {
		const cJSON *it;
		cJSON_ArrayForEach(it, usage)
		{
			const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "id"));
			if (!id || !list[i].engine_id || strcmp(id, list[i].engine_id))
				continue;
			double now = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "size"));
			d->containers.size += (uint64_t)now - (uint64_t)list[i].upper_bytes;
			list[i].upper_bytes = (int64_t)now;
		}
	}
}

/* What dcfs made in the engines: a table of containers and volumes. */
static void print_engines(const cJSON *usage, bool human)
{
	if (!cJSON_GetArraySize(usage))
		return;
	printf("\nIn engines (made by dcfs):\n\n");
	cli_table t;
	cli_table_init(&t, 4);
	cli_table_row(&t, "ENGINE", "KIND", "NAME", "SIZE");
	const cJSON *it;
	cJSON_ArrayForEach(it, usage)
	{
		char size[32];
		size_cell((uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "size")),
			  human, size);
		cli_table_row(&t, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "engine")),
			      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "kind")),
			      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name")),
			      size);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

/* du -v: each container (a running one's writes as they are now) and each volume. */
static int print_containers_volumes(dcfs_cli *cli, dcfs_store *s, dcfs_container *list,
				    size_t n, bool human)
{
	dcfs_volume_info *vols = NULL;
	size_t nvols = 0;
	if (dcfs_volumes_list(s, &vols, &nvols, &cli->err) < 0)
		return -1;
	printf("\nContainers space usage:\n\n");
	cli_table t;
	cli_table_init(&t, 5);
	cli_table_row(&t, "NAME", "CONTAINER ID", "IMAGE", "SIZE", "FOLDER");
	for (size_t i = 0; i < n; i++) {
		char size[32], id[13];
		size_cell((uint64_t)list[i].upper_bytes, human, size);
		snprintf(id, sizeof(id), "%.12s", list[i].id);
		cli_table_row(&t, list[i].name, id, list[i].image ? list[i].image : "(removed)", size,
			      list[i].folder ? list[i].folder : "");
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	printf("\nLocal volumes space usage:\n\n");
	cli_table_init(&t, 3);
	cli_table_row(&t, "VOLUME NAME", "IN USE", "SIZE");
	for (size_t i = 0; i < nvols; i++) {
		char size[32];
		size_cell(vols[i].bytes, human, size);
		cli_table_row(&t, vols[i].name, vols[i].in_use ? "yes" : "no", size);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	dcfs_volumes_list_free(vols, nvols);
	return 0;
}

static void du_lists_free(du_lists *l)
{
	dcfs_image_list_free(l->imgs, l->n);
	dcfs_snapshot_list_free(l->snaps, l->nsnaps);
	dcfs_build_list_free(l->builds, l->nbuilds);
	dcfs_feature_layer_list_free(l->features, l->nfeatures);
	cJSON_Delete(l->engine);
	cJSON_Delete(l->unreachable);
}

static int du_lists_read(dcfs_cli *cli, dcfs_store *s, dcfs_du *d, dcfs_container *list,
			 size_t ncont, bool verbose, du_lists *l)
{
	if (dcfs_engine_usage(s, list, ncont, &l->engine, &l->unreachable, &cli->err) < 0)
		return -1;
	engine_sizes(d, list, ncont, l->engine);
	const cJSON *why;
	cJSON_ArrayForEach(why, l->unreachable)
		fprintf(stderr, "dcfs: du: not counted: %s\n", why->valuestring);
	if (dcfs_build_list(s, &l->builds, &l->nbuilds, &cli->err) < 0 ||
	    dcfs_feature_layer_list(s, &l->features, &l->nfeatures, &cli->err) < 0)
		return -1;
	if ((verbose || l->nbuilds) && dcfs_image_list_list(s, NULL, &l->imgs, &l->n, &cli->err) < 0)
		return -1;
	if (d->snapshots.total && dcfs_snapshot_list(s, &l->snaps, &l->nsnaps, &cli->err) < 0)
		return -1;
	return 0;
}

/* The figures (images, snapshots, builds; containers and volumes listed with -v), table or
 * JSON. */
static int du_print(dcfs_cli *cli, dcfs_store *s, dcfs_du *d, dcfs_container *list,
		    size_t ncont, bool json, bool verbose)
{
	_cleanup_(du_lists_free) du_lists l = {0};
	if (du_lists_read(cli, s, d, list, ncont, verbose, &l) < 0)
		return 1;
	bool human = isatty(STDOUT_FILENO);
	if (json) {
		print_json(d, &l, verbose);
		return 0;
	}
	print_table(d, human);
	print_snapshots(l.snaps, l.nsnaps, human);
	print_builds(l.builds, l.nbuilds, l.imgs, l.n, human);
	du_features_print(l.features, l.nfeatures, human);
	print_engines(l.engine, human);
	if (verbose)
		print_images(l.imgs, l.n, human);
	if (verbose && print_containers_volumes(cli, s, list, ncont, human) < 0)
		return 1;
	return 0;
}

int cmd_du(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
					     {"verbose", no_argument, NULL, 'v'}, {0}};
	bool json = false, verbose = false;
	int c;
	while ((c = cli_getopt(cli, argc, argv, "v", opts)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'v')
			verbose = true;
		else
			return cli_usage(cli, NULL);
	}
	dcfs_store *s = NULL;
	int rc = cli_no_argument_store(cli, argc, argv, &s);
	if (rc)
		return rc;
	dcfs_du d;
	if (dcfs_du_read(s, &d, &cli->err) < 0)
		return 1;
	dcfs_container *list = NULL;
	size_t ncont = 0;
	if (dcfs_container_list(s, &list, &ncont, &cli->err) < 0)
		return 1;
	measure_running(s, &d, list, ncont);
	rc = du_print(cli, s, &d, list, ncont, json, verbose);
	dcfs_container_list_free(list, ncont);
	return rc;
}