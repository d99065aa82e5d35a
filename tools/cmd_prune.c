/* dcfs prune [--max-size SIZE]: remove the snapshots prebuild retention let go (unless a
 * container was made from one), then reclaim unreferenced layers, contents and chunks (and
 * chunk files an interrupted import left); with --max-size, evict least recently used images
 * first. */
#include <cjson/cJSON.h>
#include <getopt.h>

#include "cleanup.h"
#include "cli.h"
#include "gc.h"
#include "snapshot.h"

static void say_evicted(const char *ref, void *u)
{
	if (!*(bool *)u)
		printf("Evicted: %s\n", ref);
}

static void say_removed(const char *ref, void *u)
{
	if (!*(bool *)u)
		printf("Removed snapshot: %s\n", ref);
}

int cmd_prune(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{"max-size", required_argument, NULL, 'm'},
					     {"json", no_argument, NULL, 'j'}, {0}};
	bool json = false, limit = false;
	uint64_t max = 0;
	int c;
	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'm') {
			if (!cli_parse_size(optarg, &max))
				return cli_usage(cli, "bad size '%s' (try 10G, 500MB, 1048576)", optarg);
			limit = true;
		} else {
			return cli_usage(cli, NULL);
		}
	}
	if (optind != argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	_cleanup_store_ dcfs_store *s = NULL;
	if (cli_open_store(cli, DCFS_STORE_EXCLUSIVE, &s) < 0)
		return 1;
	dcfs_gc_stats st = {0};
	if (dcfs_snapshot_prune(s, say_removed, &json, &cli->err) < 0)
		return 1;
	int r = limit ? dcfs_gc_max_size(s, max, say_evicted, &json, &st, &cli->err)
		      : dcfs_gc(s, true, &st, &cli->err);
	if (r < 0)
		return 1;
	uint64_t total = st.chunk_bytes + st.orphan_bytes;
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "layers", (double)st.layers);
		cJSON_AddNumberToObject(o, "blobs", (double)st.blobs);
		cJSON_AddNumberToObject(o, "chunks", (double)st.chunks);
		cJSON_AddNumberToObject(o, "orphanChunks", (double)st.orphans);
		cJSON_AddNumberToObject(o, "reclaimedBytes", (double)total);
		char *out = cJSON_PrintUnformatted(o);
		if (out)
			puts(out);
		free(out);
		cJSON_Delete(o);
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
