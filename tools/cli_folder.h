/* The arguments shared by the commands that act on one folder's dev container: the optional
 * FOLDER (up, rebuild, down, rm, snapshot), and for down, rm and snapshot
 * `[-X] [--config FILE] [FOLDER]` with the folder's container found under its lock. */
#pragma once

#include "cli.h"
#include "container_table.h"

struct option;

/* The optional FOLDER after a command's options (more is refused): 0, or the usage exit code
 * after printing the usage. */
int cli_folder_arg(dcfs_cli *cli, int argc, char **argv, const char **folder);

/* A command on one folder's container: its arguments, then the store, the folder's lock and
 * the container. Starts as CLI_FOLDER_INIT; cli_folder_free closes the lock and frees the
 * container (the store is main's). */
typedef struct cli_folder {
	const char *folder, *config;
	bool flag;         /* the command's own option was given */
	const char *value; /* its argument, when it takes one */
	dcfs_store *s;
	int lock; /* the folder's lock: the container cannot be replaced (a rebuild) under us */
	dcfs_container c;
} cli_folder;
#define CLI_FOLDER_INIT {.lock = -1}
void cli_folder_free(cli_folder *f);

/* Parse the command's own option `own` (its short letter is own->val), --config and FOLDER:
 * 0, or the usage exit code after printing the usage. */
int cli_folder_options(dcfs_cli *cli, int argc, char **argv, const struct option *own,
		       cli_folder *f);
/* The store and the folder's lock, then the folder's container for f->config: >= 0, or
 * -errno with cli->err filled (f->lock >= 0 when only the container was missing). */
int cli_folder_container(dcfs_cli *cli, cli_folder *f);
/* cli_folder_options then cli_folder_container: 0, or the command's exit code. */
int cli_folder_open(dcfs_cli *cli, int argc, char **argv, const struct option *own,
		    cli_folder *f);
