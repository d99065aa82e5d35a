/* dcfs snapshot: store a folder's dev container's changes (its overlay upper directory) as a
 * snapshot: one more layer over the image it was made from. A running container is frozen
 * while its changes are read.
 *
 *   dcfs snapshot [--tag NAME] [--config FILE] [FOLDER]
 */
#include <getopt.h>
#include <stdio.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"
#include "container_snapshot.h"

/* One line: what was stored, and how much of it was new to the store. */
void cli_print_snapshot(const char *ref, const dcfs_layer_writer_stats *st)
{
	char files[16], fresh[16], stored[16];
	cli_human_size(st->file_bytes, files);
	cli_human_size(st->new_plain_bytes, fresh);
	cli_human_size(st->new_stored_bytes, stored);
	printf("snapshot %s: %llu entries, %s in files, %s new (%s stored)\n", ref,
	       (unsigned long long)st->entries, files, fresh, stored);
}

int cmd_snapshot(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{"tag", required_argument, NULL, 't'},
					     {"config", required_argument, NULL, 'c'}, {0}};
	const char *tag = NULL, *config = NULL;
	int c;
	optind = 0;
	while ((c = cli_getopt(cli, argc, argv, "t:", opts)) != -1) {
		if (c == 't')
			tag = optarg;
		else if (c == 'c')
			config = optarg;
		else
			return cli_usage(cli, NULL);
	}
	if (argc - optind > 1)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	const char *folder = optind < argc ? argv[optind] : NULL;
	dcfs_store *s = NULL;
	_cleanup_(dcfs_container_free) dcfs_container ct = {0};
	_cleanup_close_ int lock = -1;
	/* the folder's lock first: the container cannot be replaced (a rebuild) under us */
	if (cli_store(cli, &s) < 0 ||
	    (lock = dcfs_container_lock(s, folder, &cli->err)) < 0 ||
	    dcfs_container_of(s, folder, config, &ct, &cli->err) < 0)
		return 1;
	dcfs_container_snapshot_opts o = {.tag = tag, .origin = "snapshot"};
	_cleanup_free_ char *ref = NULL;
	dcfs_layer_writer_stats st;
	if (dcfs_container_snapshot(s, &ct, &o, &ref, &st, &cli->err) < 0)
		return 1;
	cli_print_snapshot(ref, &st);
	return 0;
}
