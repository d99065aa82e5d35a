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
#include "cli_folder.h"
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
	static const struct option force = {"force", no_argument, NULL, 'f'};
	_cleanup_(cli_folder_free) cli_folder f = CLI_FOLDER_INIT;
	int rc = cli_folder_open(cli, argc, argv, &force, &f);
	if (rc)
		return rc;
	if (!f.flag && keeps_running(&f.c)) {
		printf("left %s running: its shutdownAction is \"none\" (dcfs down -f stops it)\n",
		       f.c.name);
		return 0;
	}
	if (dcfs_container_stop(f.s, &f.c, 10000, &cli->err) < 0 ||
	    dcfs_volumes_sync(f.s, &cli->err) < 0)
		return 1;
	printf("stopped %s\n", f.c.name);
	return 0;
}
