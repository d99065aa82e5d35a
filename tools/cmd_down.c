/* dcfs down: stop a folder's dev container (SIGTERM, SIGKILL after 10 s, runc delete) and
 * unmount its workspace and root. Its upper directory stays: `dcfs up` starts it again.
 * A configuration whose shutdownAction is "none" keeps its container running unless -f.
 *
 * --config FILE picks one of the folder's configurations (needed when it has several).
 *
 *   dcfs down [-f] [--config FILE] [FOLDER]
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"
#include "volumes.h"
#include "devcontainer.h"

/* The container's configuration says "shutdownAction": "none". A configuration that can no
 * longer be read does not keep the container up. */
static bool keeps_running(const dcfs_container *c)
{
	dcfs_devcontainer_opts o = {.folder = c->folder, .config_file = c->config_file};
	dcfs_devcontainer d = {0};
	if (dcfs_devcontainer_read(&o, &d, NULL) < 0)
		return false;
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(d.config, "shutdownAction");
	bool none = cJSON_IsString(a) && strcmp(a->valuestring, "none") == 0;
	dcfs_devcontainer_free(&d);
	return none;
}

int cmd_down(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
					     {"config", required_argument, NULL, 'c'}, {0}};
	bool force = false;
	const char *config = NULL;
	int ch;
	optind = 1;
	while ((ch = cli_getopt(cli, argc, argv, "f", opts)) != -1) {
		if (ch == 'f')
			force = true;
		else if (ch == 'c')
			config = optarg;
		else
			return cli_usage(cli, NULL);
	}
	if (argc - optind > 1)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	const char *folder = optind < argc ? argv[optind] : NULL;
	dcfs_store *s = NULL;
	_cleanup_(dcfs_container_free) dcfs_container c = {0};
	_cleanup_close_ int lock = -1;
	if (cli_store(cli, &s) < 0 ||
	    (lock = dcfs_container_lock(s, folder, &cli->err)) < 0 ||
	    dcfs_container_of(s, folder, config, &c, &cli->err) < 0)
		return 1;
	if (!force && keeps_running(&c)) {
		printf("left %s running: its shutdownAction is \"none\" (dcfs down -f stops it)\n", c.name);
		return 0;
	}
	if (dcfs_container_stop(s, &c, 10000, &cli->err) < 0 || dcfs_volumes_sync(s, &cli->err) < 0)
		return 1;
	printf("stopped %s\n", c.name);
	return 0;
}
