/* dcfs push [--insecure] [--compression zstd|gzip] SRC REF: an image from the store to an OCI
 * registry, and a summary line. */
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "cli.h"
#include "push.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_push(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{"insecure", no_argument, NULL, 'k'},
					     {"compression", required_argument, NULL, 'c'},
					     {0}};
	dcfs_push_opts o = {.compression = DCFS_PUSH_ZSTD};
	int c;
	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c == 'k')
			o.insecure = true;
		else if (c == 'c' && !strcmp(optarg, "zstd"))
			o.compression = DCFS_PUSH_ZSTD;
		else if (c == 'c' && !strcmp(optarg, "gzip"))
			o.compression = DCFS_PUSH_GZIP;
		else if (c == 'c')
			return cli_usage(cli, "unknown compression '%s' (zstd or gzip)", optarg);
		else
			return cli_usage(cli, NULL);
	}
	if (argc - optind != 2)
		return cli_usage(cli, "expected SRC and REF");
	dcfs_store *s = NULL;
	if (cli_store(cli, &s) < 0)
		return 1;
	double t0 = now();
	dcfs_push_result res;
	if (dcfs_push(s, argv[optind], argv[optind + 1], &o, &res, &cli->err) < 0)
		return 1;
	char sent[16];
	cli_human_size(res.bytes, sent);
	printf("Pushed %s (%s): %zu layers, %zu blobs uploaded, %zu mounted, %s sent, %.2fs\n",
	       argv[optind + 1], res.manifest, res.layers, res.uploaded, res.mounted, sent,
	       now() - t0);
	return 0;
}
