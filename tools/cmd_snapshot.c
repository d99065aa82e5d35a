/* dcfs snapshot: store a folder's dev container's changes (its overlay upper directory) as a
 * snapshot: one more layer over the image it was made from. A running container is frozen
 * while its changes are read.
 *
 *   dcfs snapshot [--tag NAME] [--config FILE] [FOLDER]
 */
#include <getopt.h>
#include <stdio.h>

#include "cleanup.h"
#include "cli_folder.h"
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
	static const struct option tag = {"tag", required_argument, NULL, 't'};
	/* the folder's lock first: the container cannot be replaced (a rebuild) under us */
	_cleanup_(cli_folder_free) cli_folder f = CLI_FOLDER_INIT;
	int rc = cli_folder_open(cli, argc, argv, &tag, &f);
	if (rc)
		return rc;
	dcfs_container_snapshot_opts o = {.tag = f.value, .origin = "snapshot"};
	_cleanup_free_ char *ref = NULL;
	dcfs_layer_writer_stats st;
	if (dcfs_container_snapshot(f.s, &f.c, &o, &ref, &st, &cli->err) < 0)
		return 1;
	cli_print_snapshot(ref, &st);
	return 0;
}
