/* dcfs import SRC REF: make a one-layer image from a directory or a tarball. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "cli.h"
#include "import.h"
#include "ref.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_json(const char *ref, const dcfs_layer_writer_stats *st, double secs)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ref", ref);
	cJSON_AddNumberToObject(o, "entries", (double)st->entries);
	cJSON_AddNumberToObject(o, "files", (double)st->files);
	cJSON_AddNumberToObject(o, "fileBytes", (double)st->file_bytes);
	cJSON_AddNumberToObject(o, "dedupBytes", (double)st->dedup_bytes);
	cJSON_AddNumberToObject(o, "newChunks", (double)st->new_chunks);
	cJSON_AddNumberToObject(o, "newPlainBytes", (double)st->new_plain_bytes);
	cJSON_AddNumberToObject(o, "newStoredBytes", (double)st->new_stored_bytes);
	cJSON_AddNumberToObject(o, "seconds", secs);
	char *s = cJSON_PrintUnformatted(o);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
}

int cmd_import(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {0}};
	bool json = false;
	int c;
	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c != 'j')
			return cli_usage(cli, NULL);
		json = true;
	}
	if (argc - optind != 2)
		return cli_usage(cli, "expected SRC and REF");
	const char *src = argv[optind], *ref_text = argv[optind + 1];
	dcfs_ref ref;
	if (dcfs_ref_parse(ref_text, &ref, &cli->err) < 0)
		return 1;
	_cleanup_free_ char *name = dcfs_ref_name(&ref);
	dcfs_ref_free(&ref);
	if (!name)
		return dcfs_error_set(&cli->err, ENOMEM, "out of memory"), 1;

	dcfs_store *s = NULL;
	if (cli_store(cli, &s) < 0)
		return 1;
	double t0 = now();
	dcfs_layer_writer_stats st;
	if (dcfs_import(s, src, name, &st, &cli->err) < 0)
		return 1;
	double secs = now() - t0;
	if (json) {
		print_json(name, &st, secs);
		return 0;
	}
	char total[16], fresh[16], dedup[16];
	cli_human_size(st.file_bytes, total);
	cli_human_size(st.new_stored_bytes, fresh);
	cli_human_size(st.dedup_bytes, dedup);
	printf("Imported %s: %llu entries, %llu files, %s (%s already stored), %s new on disk, %.2fs\n",
	       name, (unsigned long long)st.entries, (unsigned long long)st.files, total, dedup, fresh,
	       secs);
	return 0;
}
