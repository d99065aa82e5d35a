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
#include "cli_folder.h"
#include "container.h"
#include "volumes.h"

static int remove_container(dcfs_cli *cli, cli_folder *f)
{
	bool force = f->flag;
	const dcfs_container *c = &f->c;
	int r = cli_folder_container(cli, f);
	if (r == -ENOENT && force && f->lock >= 0)
		return dcfs_error_clear(&cli->err), 0;
	if (r < 0)
		return r;
	dcfs_store *s = f->s;
	_cleanup_free_ char *root = dcfs_container_runc_root(s, &cli->err);
	if (!root)
		return -1;
	_cleanup_free_ char *state = NULL;
	if (dcfs_container_on_engine(c)) {
		if (dcfs_container_engine_state(c, &state, &cli->err) < 0)
			return -1;
	} else {
		dcfs_runc_state(&(dcfs_runc){.root = root}, c->id, &state);
	}
	if (state && !strcmp(state, "running") && !force)
		return dcfs_error_set(&cli->err, EBUSY,
				      "container %s is running (stop it with 'dcfs down', or use -f)",
				      c->name);
	if ((r = dcfs_container_stop(s, c, 10000, &cli->err)) < 0 ||
	    (r = dcfs_container_delete(s, c->id, &cli->err)) < 0 ||
	    (r = dcfs_volumes_sync(s, &cli->err)) < 0)
		return r;
	printf("removed %s\n", c->name);
	return 0;
}

int cmd_rm(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option force = {"force", no_argument, NULL, 'f'};
	_cleanup_(cli_folder_free) cli_folder f = CLI_FOLDER_INIT;
	int usage = cli_folder_options(cli, argc, argv, &force, &f);
	if (usage)
		return usage;
	return remove_container(cli, &f) < 0 ? 1 : 0;
}
