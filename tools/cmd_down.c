/* dcfs down: stop a folder's dev container (SIGTERM, SIGKILL after 10 s, runc delete) and
 * unmount its workspace and root. Its upper directory stays: `dcfs up` starts it again.
 *
 *   dcfs down [FOLDER]
 */
#include <getopt.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"

int cmd_down(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{0}};
	optind = 1;
	if (getopt_long(argc, argv, "", opts, NULL) != -1)
		return cli_usage(cli, NULL);
	if (argc - optind > 1)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	const char *folder = optind < argc ? argv[optind] : NULL;
	_cleanup_store_ dcfs_store *s = NULL;
	_cleanup_(dcfs_container_free) dcfs_container c = {0};
	_cleanup_close_ int lock = -1;
	if (cli_open_store(cli, DCFS_STORE_WRITE, &s) < 0 ||
	    (lock = dcfs_container_lock(s, folder, &cli->err)) < 0 ||
	    dcfs_container_of(s, folder, &c, &cli->err) < 0 ||
	    dcfs_container_stop(s, &c, 10000, &cli->err) < 0)
		return 1;
	printf("stopped %s\n", c.name);
	return 0;
}
