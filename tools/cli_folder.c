/* The arguments shared by the commands that act on one folder's dev container (see
 * cli_folder.h): the optional FOLDER, `[-X] [--config FILE] [FOLDER]` parsed in one place, and
 * the folder's container found under the folder's lock. */
#include <getopt.h>
#include <unistd.h>

#include "cli_folder.h"
#include "container.h"

int cli_folder_arg(dcfs_cli *cli, int argc, char **argv, const char **folder)
{
	if (argc - optind > 1)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	*folder = optind < argc ? argv[optind] : NULL;
	return 0;
}

void cli_folder_free(cli_folder *f)
{
	if (f->lock >= 0)
		close(f->lock);
	f->lock = -1;
	dcfs_container_free(&f->c);
}

int cli_folder_options(dcfs_cli *cli, int argc, char **argv, const struct option *own,
		       cli_folder *f)
{
	const struct option opts[] = {*own, {"config", required_argument, NULL, 'c'}, {0}};
	const char shortopts[] = {(char)own->val, own->has_arg ? ':' : '\0', '\0'};
	int c;
	optind = 0;
	while ((c = cli_getopt(cli, argc, argv, shortopts, opts)) != -1) {
		if (c == own->val)
			f->flag = true, f->value = optarg;
		else if (c == 'c')
			f->config = optarg;
		else
			return cli_usage(cli, NULL);
	}
	return cli_folder_arg(cli, argc, argv, &f->folder);
}

int cli_folder_container(dcfs_cli *cli, cli_folder *f)
{
	int r = cli_store(cli, &f->s);
	if (r < 0 || (r = f->lock = dcfs_container_lock(f->s, f->folder, &cli->err)) < 0)
		return r;
	return dcfs_container_of(f->s, f->folder, f->config, &f->c, &cli->err);
}

int cli_folder_open(dcfs_cli *cli, int argc, char **argv, const struct option *own,
		    cli_folder *f)
{
	int usage = cli_folder_options(cli, argc, argv, own, f);
	if (usage)
		return usage;
	return cli_folder_container(cli, f) < 0 ? 1 : 0;
}
