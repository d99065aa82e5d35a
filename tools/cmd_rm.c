/* dcfs rm: remove a folder's dev container: its record and STORE/containers/<id>/ (upper
 * directory, bundle, markers). The workspace folder on the host is never touched. A running
 * container is refused unless -f, which stops it first (and is quiet when there is none).
 *
 * --config FILE picks one of the folder's configurations (needed when it has several).
 *
 *   dcfs rm [-f] [--config FILE] [FOLDER]
 */
#include <getopt.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"
#include "volumes.h"

static int remove_container(dcfs_cli *cli, const char *folder, const char *config, bool force)
{
	dcfs_store *s = NULL;
	_cleanup_(dcfs_container_free) dcfs_container c = {0};
	_cleanup_close_ int lock = -1;
	if (cli_store(cli, &s) < 0 ||
	    (lock = dcfs_container_lock(s, folder, &cli->err)) < 0)
		return -1;
	int r = dcfs_container_of(s, folder, config, &c, &cli->err);
	if (r == -ENOENT && force)
		return dcfs_error_clear(&cli->err), 0;
	if (r < 0)
		return r;
	_cleanup_free_ char *root = dcfs_container_runc_root(s, &cli->err);
	if (!root)
		return -1;
	_cleanup_free_ char *state = NULL;
	dcfs_runc_state(&(dcfs_runc){.root = root}, c.id, &state);
	if (state && !strcmp(state, "running") && !force)
		return dcfs_error_set(&cli->err, EBUSY,
				      "container %s is running (stop it with 'dcfs down', or use -f)",
				      c.name);
	if ((r = dcfs_container_stop(s, &c, 10000, &cli->err)) < 0 ||
	    (r = dcfs_container_delete(s, c.id, &cli->err)) < 0 ||
	    (r = dcfs_volumes_sync(s, &cli->err)) < 0)
		return r;
	printf("removed %s\n", c.name);
	return 0;
}

int cmd_rm(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
					     {"config", required_argument, NULL, 'c'}, {0}};
	bool force = false;
	const char *config = NULL;
	int c;
	optind = 0;
	while ((c = cli_getopt(cli, argc, argv, "f", opts)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'c')
			config = optarg;
		else
			return cli_usage(cli, NULL);
	}
	if (argc - optind > 1)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	return remove_container(cli, optind < argc ? argv[optind] : NULL, config, force) < 0 ? 1 : 0;
}
