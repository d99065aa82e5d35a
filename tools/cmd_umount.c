/* dcfs umount MNT: end a dcfs mount cleanly (its daemon exits), or clear the stale mount a
 * killed daemon left (ENOTCONN). For a container root, the overlay and its hidden image view
 * both go. */
#include "cli.h"
#include "mount.h"

int cmd_umount(int argc, char **argv, dcfs_cli *cli)
{
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage(cli, "expected one mount point");
	return dcfs_umount(argv[1], &cli->err) < 0 ? 1 : 0;
}
