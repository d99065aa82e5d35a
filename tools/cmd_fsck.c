/* dcfs fsck [--repair]: check every chunk's hash, every reference and every sum. Exits 1 when
 * damage remains. */
#include <getopt.h>

#include "cleanup.h"
#include "cli.h"
#include "fsck.h"

int cmd_fsck(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{"repair", no_argument, NULL, 'r'}, {0}};
	bool repair = false;
	int c;
	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c != 'r')
			return cli_usage(cli, NULL);
		repair = true;
	}
	if (optind != argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (repair)
		cli->store_needs = DCFS_CMD_STORE_EXCLUSIVE;
	dcfs_store *s = NULL;
	if (cli_store(cli, &s) < 0)
		return 1;
	dcfs_report findings = cli_report(stdout);
	dcfs_fsck_report rep;
	if (dcfs_fsck(s, repair, &findings, &rep, &cli->err) < 0)
		return 1;
	if (repair && rep.repaired) {
		printf("repaired %llu problems; checking again\n", (unsigned long long)rep.repaired);
		if (dcfs_fsck(s, false, &findings, &rep, &cli->err) < 0)
			return 1;
	}
	char bytes[16], orphan[16];
	cli_human_size(rep.chunk_bytes, bytes);
	cli_human_size(rep.orphan_bytes, orphan);
	printf("checked %llu chunks (%s): %llu problems", (unsigned long long)rep.chunks, bytes,
	       (unsigned long long)rep.problems);
	if (rep.orphans)
		printf("; %llu unreferenced chunk files (%s, reclaimable with 'dcfs prune')",
		       (unsigned long long)rep.orphans, orphan);
	printf("\n");
	return rep.problems ? 1 : 0;
}
