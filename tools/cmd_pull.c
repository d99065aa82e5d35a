/* dcfs pull [--insecure] [--json] REF: an image from an OCI registry into the store. On a
 * terminal, a line per layer kept up to date as `docker pull` does (bytes, rate, then
 * "verified" once the digest matched); nothing but the summary line otherwise; JSON events with
 * --json. An image that a dcfs store
 * pushed as a snapshot (its config's labels say so) becomes a snapshot here too. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "snapshot.h"
#include "pull.h"


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
	static const char *const names[] = {"manifest", "progress", "layer"};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event", names[ev->kind]);
	cJSON_AddStringToObject(o, "digest", ev->digest);
	if (ev->kind != DCFS_PULL_MANIFEST) {
		cJSON_AddNumberToObject(o, "index", (double)ev->index);
		cJSON_AddNumberToObject(o, "downloadedBytes", (double)ev->bytes);
		cJSON_AddNumberToObject(o, "size", (double)ev->size);
		cJSON_AddNumberToObject(o, "seconds", ev->seconds);
	}
	if (ev->kind == DCFS_PULL_LAYER) {
		cJSON_AddBoolToObject(o, "cached", ev->cached);
		cJSON_AddNumberToObject(o, "files", ev->stats ? (double)ev->stats->files : 0);
		cJSON_AddNumberToObject(o, "newStoredBytes",
					ev->stats ? (double)ev->stats->new_stored_bytes : 0);
	}
	cJSON_AddNumberToObject(o, "layers", (double)ev->count);
	print_object(o);
}

/* Layer i's line: the cursor goes up to it, the line is rewritten, the cursor comes back. */
static void layer_line(cli_pull_progress_state *p, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void layer_line(cli_pull_progress_state *p, size_t i, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t up = p->lines - i;
	fprintf(p->out, "\033[%zuA\r\033[2K", up);
	vfprintf(p->out, fmt, ap);
	fprintf(p->out, "\033[%zuB\r", up);
	va_end(ap);
	fflush(p->out);
}

void cli_pull_progress(const dcfs_pull_event *ev, void *opaque)
{
	cli_pull_progress_state *p = opaque;
	if (p->json) {
		json_event(ev);
		return;
	}
	if (!p->tty)
		return;
	if (ev->kind == DCFS_PULL_MANIFEST) {
		for (; p->lines < ev->count; p->lines++)
			fprintf(p->out, "layer %zu: waiting\n", p->lines + 1);
		fflush(p->out);
		return;
	}
	if (ev->index >= p->lines)
		return;
	char got[16], total[16], rate[16];
	cli_human_size(ev->bytes, got);
	cli_human_size(ev->size, total);
	cli_human_size(ev->seconds > 0 ? (uint64_t)((double)ev->bytes / ev->seconds) : 0, rate);
	if (ev->kind == DCFS_PULL_PROGRESS)
		layer_line(p, ev->index, "%.19s: downloading %s / %s, %s/s", ev->digest, got, total,
			   rate);
	else if (ev->cached)
		layer_line(p, ev->index, "%.19s: already stored", ev->digest);
	else
		layer_line(p, ev->index, "%.19s: pulled, verified: %s in %.2fs (%s/s), %llu files",
			   ev->digest, got, ev->seconds, rate,
			   (unsigned long long)ev->stats->files);
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
	cli_pull_progress_state prog = {.tty = isatty(STDOUT_FILENO), .out = stdout};
	dcfs_pull_opts o = {.progress = cli_pull_progress, .opaque = &prog};
	int c;
	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c == 'j')
			prog.json = true;
		else if (c == 'k')
			o.insecure = true;
		else
			return cli_usage(cli, NULL);
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected REF");
	dcfs_store *s = NULL;
	if (cli_store(cli, &s) < 0)
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
