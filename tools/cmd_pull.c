/* dcfs pull [--insecure] [--json] REF: an image from an OCI registry into the store. A line per
 * layer on a terminal, JSON events with --json, and a summary line. An image that a dcfs store
 * pushed as a snapshot (its config's labels say so) becomes a snapshot here too. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "snapshot.h"
#include "pull.h"

typedef struct progress {
	bool json, tty;
} progress;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_object(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
	fflush(stdout);
}

static void json_event(const dcfs_pull_event *ev)
{
	cJSON *o = cJSON_CreateObject();
	bool layer = ev->kind == DCFS_PULL_LAYER;
	cJSON_AddStringToObject(o, "event", layer ? "layer" : "manifest");
	cJSON_AddStringToObject(o, "digest", ev->digest);
	if (layer) {
		cJSON_AddNumberToObject(o, "index", (double)ev->index);
		cJSON_AddBoolToObject(o, "cached", ev->cached);
		cJSON_AddNumberToObject(o, "downloadedBytes", (double)ev->bytes);
		cJSON_AddNumberToObject(o, "files", ev->stats ? (double)ev->stats->files : 0);
		cJSON_AddNumberToObject(o, "newStoredBytes",
					ev->stats ? (double)ev->stats->new_stored_bytes : 0);
		cJSON_AddNumberToObject(o, "seconds", ev->seconds);
	}
	cJSON_AddNumberToObject(o, "layers", (double)ev->count);
	print_object(o);
}

static void on_event(const dcfs_pull_event *ev, void *opaque)
{
	progress *p = opaque;
	if (p->json) {
		json_event(ev);
		return;
	}
	if (!p->tty || ev->kind != DCFS_PULL_LAYER)
		return;
	if (ev->cached) {
		printf("%.19s: already stored\n", ev->digest);
	} else {
		char got[16];
		cli_human_size(ev->bytes, got);
		printf("%.19s: pulled %s, %llu files, %.2fs\n", ev->digest, got,
		       (unsigned long long)ev->stats->files, ev->seconds);
	}
	fflush(stdout);
}

static void summary(const dcfs_pull_result *res, bool json, double secs)
{
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", "pulled");
		cJSON_AddStringToObject(o, "ref", res->name);
		cJSON_AddStringToObject(o, "digest", res->manifest);
		cJSON_AddNumberToObject(o, "layers", (double)res->layers);
		cJSON_AddNumberToObject(o, "cachedLayers", (double)res->cached);
		cJSON_AddNumberToObject(o, "downloadedBytes", (double)res->bytes);
		cJSON_AddNumberToObject(o, "seconds", secs);
		print_object(o);
		return;
	}
	char got[16];
	cli_human_size(res->bytes, got);
	printf("Pulled %s (%s): %zu layers, %zu already stored, %s downloaded, %.2fs\n", res->name,
	       res->manifest, res->layers, res->cached, got, secs);
}

int cmd_pull(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'}, {"insecure", no_argument, NULL, 'k'}, {0}};
	progress prog = {.tty = isatty(STDOUT_FILENO)};
	dcfs_pull_opts o = {.progress = on_event, .opaque = &prog};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			prog.json = true;
		else if (c == 'k')
			o.insecure = true;
		else
			return cli_usage(cli, NULL);
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected REF");
	_cleanup_store_ dcfs_store *s = NULL;
	if (cli_open_store(cli, DCFS_STORE_WRITE, &s) < 0)
		return 1;
	double t0 = now();
	_cleanup_(dcfs_pull_result_free) dcfs_pull_result res;
	bool snapshot = false;
	if (dcfs_pull(s, argv[optind], &o, &res, &cli->err) < 0 ||
	    dcfs_snapshot_adopt(s, res.name, &snapshot, &cli->err) < 0)
		return 1;
	summary(&res, prog.json, now() - t0);
	if (snapshot && !prog.json)
		printf("%s is a dcfs snapshot: listed by 'dcfs snapshots', and a prebuild for 'dcfs up'"
		       " when its key matches\n", res.name);
	return 0;
}
