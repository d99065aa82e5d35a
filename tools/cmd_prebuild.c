/* dcfs prebuild: make the snapshot later `up`s of this configuration start from: a fresh
 * container runs onCreateCommand and updateContentCommand, its changes are stored, and it is
 * removed. The newest N prebuilds of the configuration are kept (--keep, 1 to 5, default 2);
 * older ones become reclaimable (`dcfs du`, `dcfs prune`).
 *
 *   dcfs prebuild [--keep N] [--config FILE] [FOLDER]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "cli.h"
#include "prebuild.h"


int cmd_prebuild(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {
		{"keep", required_argument, NULL, 'k'},
		{"config", required_argument, NULL, 'c'},
		{"builder", required_argument, NULL, 'B'},
		{0},
	};
	dcfs_report report = cli_report(stdout);
	dcfs_prebuild_opts o = {.keep = 2, .report = &report};
	int c;
	optind = 0;
	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c == 'k') {
			char *end;
			long keep = strtol(optarg, &end, 10);
			if (*end || end == optarg || keep < 1 || keep > 5)
				return cli_usage(cli, "--keep takes 1 to 5, not '%s'", optarg);
			o.keep = (int)keep;
		} else if (c == 'c') {
			o.config_file = optarg;
		} else if (c == 'B') {
			o.builder = optarg;
		} else {
			return cli_usage(cli, NULL);
		}
	}
	if (argc - optind > 1)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	o.folder = optind < argc ? argv[optind] : NULL;
	if (cli_check_up_config(cli, o.folder, o.config_file, stdout) < 0)
		return 1;
	dcfs_store *s = NULL;
	if (cli_store(cli, &s) < 0)
		return 1;
	_cleanup_(dcfs_prebuild_result_free) dcfs_prebuild_result res = {0};
	if (dcfs_prebuild(s, &o, &res, &cli->err) < 0)
		return 1;
	if (res.collapsed) {
		printf("prebuild: superseded by a newer request for the same configuration (key "
		       "%.12s)\n", res.key.key);
	} else {
		cli_print_snapshot(res.ref, &res.stats);
		printf("prebuild: key %.12s; keeping the newest %d, %d more now reclaimable\n",
		       res.key.key, o.keep, res.released);
		if (res.key.workspace_tree[0])
			printf("prebuild: workspace changes stored with it (git tree %.12s; the folder "
			       "was not written)\n", res.key.workspace_tree);
		else
			printf("prebuild: the folder is no git repository: its workspace changes "
			       "were made in the folder and are not part of the prebuild\n");
	}
	return 0;
}
