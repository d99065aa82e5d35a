/* dcfs up: create and start the dev container of a folder, or find it running.
 *
 *   dcfs up [--json] [--remove-existing-container] [--no-prebuild] [--builder NAME]
 *           [--engine runc|podman|docker]
 *           [--config FILE] [FOLDER]
 *
 * The work is launcher/up/up.c's; this prints what happened: which prebuild snapshot the new
 * container started from (or why none matched), the ports, and one summary line (one JSON line
 * with --json, everything else on stderr then). The configuration's warnings come first, on
 * stderr (tools/cli_config.c). */
#include <getopt.h>
#include <unistd.h>
#include <stdio.h>

#include "cleanup.h"
#include "cli.h"
#include "cli_folder.h"
#include "jsonc.h"
#include "up.h"

static void print_up(const dcfs_up_result *res, bool json)
{
	if (res->ports) /* stdout holds only the JSON line with --json */
		fprintf(json ? stderr : stdout, "%s\n", res->ports);
	if (json) {
		_cleanup_json_ cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "outcome", "success");
		cJSON_AddStringToObject(j, "containerId", res->id);
		cJSON_AddStringToObject(j, "remoteUser", res->user);
		cJSON_AddStringToObject(j, "remoteWorkspaceFolder", res->workspace_folder);
		if (res->prebuild)
			cJSON_AddStringToObject(j, "prebuild", res->prebuild);
		_cleanup_free_ char *text = cJSON_PrintUnformatted(j);
		puts(text ? text : "{}");
		return;
	}
	printf("%s %s (%.12s): image %s, user %s, workspace %s\n",
	       res->started ? "started" : "running", res->name, res->id, res->ref, res->user,
	       res->workspace_folder);
}

bool cli_up_option(int c, dcfs_up_opts *o, bool *json)
{
	if (c == 'j')
		*json = true;
	else if (c == 'c')
		o->config_file = optarg;
	else if (c == 'B')
		o->builder = optarg;
	else if (c == 'E')
		o->engine = optarg;
	else
		return false;
	return true;
}

void cli_up_notes(dcfs_up_opts *o, FILE *notes, dcfs_report *report,
		  cli_pull_progress_state *prog)
{
	*report = cli_report(notes);
	o->report = report;
	*prog = (cli_pull_progress_state){.tty = isatty(fileno(notes)) != 0, .out = notes};
	o->pull_progress = cli_pull_progress;
	o->pull_opaque = prog;
}

int cli_up_run(dcfs_cli *cli, dcfs_store *s, const dcfs_up_opts *o, bool json)
{
	dcfs_up_result res;
	if (dcfs_up(s, o, &res, &cli->err) < 0)
		return 1;
	print_up(&res, json);
	dcfs_up_result_free(&res);
	return 0;
}

int cmd_up(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {
		{"remove-existing-container", no_argument, NULL, 'r'},
		{"no-prebuild", no_argument, NULL, 'n'},
		CLI_UP_OPTIONS,
		{0},
	};
	dcfs_up_opts o = {0};
	bool json = false;
	int c;
	optind = 0;
	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c == 'r')
			o.remove_existing = true;
		else if (c == 'n')
			o.no_prebuild = true;
		else if (!cli_up_option(c, &o, &json))
			return cli_usage(cli, NULL);
	}
	int usage = cli_folder_arg(cli, argc, argv, &o.folder);
	if (usage)
		return usage;
	FILE *notes = json ? stderr : stdout;
	dcfs_report report;
	cli_pull_progress_state prog;
	cli_up_notes(&o, notes, &report, &prog);
	if (cli_check_up_config(cli, o.folder, o.config_file, notes) < 0)
		return 1;
	dcfs_store *s = NULL;
	if (cli_store(cli, &s) < 0)
		return 1;
	return cli_up_run(cli, s, &o, json);
}
