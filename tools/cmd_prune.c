/* dcfs prune [--max-size SIZE [--yes]]: remove the snapshots prebuild retention let go (unless
 * a container was made from one), then reclaim unreferenced layers, contents and chunks (and
 * chunk files an interrupted import left); with --max-size, evict least recently used images
 * first, asking before an imported image or a snapshot that is not a prebuild (--yes: no). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "gc.h"
#include "image_list.h"
#include "snapshot.h"

typedef struct prune_opts {
	bool json, yes;
} prune_opts;

static void say_evicted(const char *ref, void *u)
{
	if (!((prune_opts *)u)->json)
		printf("Evicted: %s\n", ref);
}

static void say_removed(const char *ref, void *u)
{
	if (!((prune_opts *)u)->json)
		printf("Removed snapshot: %s\n", ref);
}

/* An imported image or a snapshot the user took goes only with --yes or a "y" on a terminal:
 * nothing could give it back, as `rebuild --full` also asks. */
static bool may_evict(const dcfs_image_info *im, void *u)
{
	const prune_opts *o = u;
	const char *what = !strcmp(im->kind, "image") ? "imported image, no registry can give it back"
						      : "snapshot that is not a prebuild";
	if (o->yes)
		return true;
	if (isatty(0) && isatty(2)) {
		fprintf(stderr, "Evict %s (%s)? [y/N] ", im->ref, what);
		char answer[16] = "";
		return fgets(answer, sizeof(answer), stdin) && (answer[0] == 'y' || answer[0] == 'Y');
	}
	fprintf(stderr, "dcfs: prune: kept %s (%s): --yes evicts it too\n", im->ref, what);
	return false;
}

int cmd_prune(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{"max-size", required_argument, NULL, 'm'},
					     {"json", no_argument, NULL, 'j'},
					     {"yes", no_argument, NULL, 'y'}, {0}};
	prune_opts o = {0};
	bool limit = false;
	uint64_t max = 0;
	int c;
	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c == 'j') {
			o.json = true;
		} else if (c == 'y') {
			o.yes = true;
		} else if (c == 'm') {
			if (!cli_parse_size(optarg, &max))
				return cli_usage(cli, "bad size '%s' (try 10G, 500MB, 1048576)", optarg);
			limit = true;
		} else {
			return cli_usage(cli, NULL);
		}
	}
	dcfs_store *s = NULL;
	int rc = cli_no_argument_store(cli, argc, argv, &s);
	if (rc)
		return rc;
	dcfs_gc_stats st = {0};
	if (o.yes && !limit)
		return cli_usage(cli, "--yes goes with --max-size");
	if (dcfs_snapshot_prune(s, say_removed, &o, &cli->err) < 0)
		return 1;
	dcfs_gc_evict how = {.may_evict = may_evict, .evicted = say_evicted, .u = &o};
	int r = limit ? dcfs_gc_max_size(s, max, &how, &st, &cli->err)
		      : dcfs_gc(s, true, &st, &cli->err);
	if (r < 0)
		return 1;
	uint64_t total = st.chunk_bytes + st.orphan_bytes;
	if (o.json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "layers", (double)st.layers);
		cJSON_AddNumberToObject(j, "blobs", (double)st.blobs);
		cJSON_AddNumberToObject(j, "chunks", (double)st.chunks);
		cJSON_AddNumberToObject(j, "orphanChunks", (double)st.orphans);
		cJSON_AddNumberToObject(j, "reclaimedBytes", (double)total);
		char *out = cJSON_PrintUnformatted(j);
		if (out)
			puts(out);
		free(out);
		cJSON_Delete(j);
		return 0;
	}
	char human[16];
	cli_human_size(total, human);
	printf("Deleted: %llu layers, %llu contents, %llu chunks, %llu orphan chunk files\n",
	       (unsigned long long)st.layers, (unsigned long long)st.blobs,
	       (unsigned long long)st.chunks, (unsigned long long)st.orphans);
	printf("Total reclaimed space: %s\n", human);
	return 0;
}
