/* dcfs logs: print a folder's dev container log: each lifecycle command's label and output
 * (those that `waitFor` sent to the background too), and what its mounts and runc reported.
 *
 * --config FILE picks one of the folder's configurations (needed when it has several).
 *
 *   dcfs logs [--config FILE] [FOLDER]
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"
#include "fsutil.h"

static int print_log(dcfs_cli *cli, const char *folder, const char *config)
{
	dcfs_store *s = NULL;
	_cleanup_(dcfs_container_free) dcfs_container c = {0};
	if (cli_store(cli, &s) < 0 || dcfs_container_of(s, folder, config, &c, &cli->err) < 0)
		return -1;
	_cleanup_free_ char *path = dcfs_container_path(s, c.id, "log");
	if (!path)
		return dcfs_error_set(&cli->err, ENOMEM, "out of memory");
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : dcfs_error_set(&cli->err, errno, "cannot open '%s': %m", path);
	fflush(stdout);
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		int w = dcfs_write_all(1, buf, (size_t)n);
		if (w < 0)
			return dcfs_error_set(&cli->err, -w, "cannot write output: %s", strerror(-w));
	}
	return n < 0 ? dcfs_error_set(&cli->err, errno, "cannot read '%s': %m", path) : 0;
}

int cmd_logs(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'}, {0}};
	const char *config = NULL;
	int c;
	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c != 'c')
			return cli_usage(cli, NULL);
		config = optarg;
	}
	if (argc - optind > 1)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	return print_log(cli, optind < argc ? argv[optind] : NULL, config) < 0 ? 1 : 0;
}
