/* dcfs rebuild: remove a folder's dev container and create it again from the cached images,
 * running every lifecycle command (no prebuild). The workspace folder and its
 * .devcontainer/config ($HOME/config in the container) are the user's and survive; everything
 * else in the container starts over.
 *
 *   dcfs rebuild [--full [--yes]] [--json] [--builder NAME] [--engine NAME] [--config FILE]
 *                [FOLDER]
 *
 * A Dockerfile configuration's build is reused when its build key is unchanged. --full first
 * purges the store as a Codespaces full rebuild does (launcher/up/purge.h): it lists the
 * containers, images (a Dockerfile configuration's builds among them), snapshots and volumes it
 * will remove, with their sizes, asks (unless --yes), removes them, says how many bytes that
 * freed, and creates the container (`up` pulls the image again, or builds it again with its base
 * images pulled afresh). Workspaces are never touched. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "cli_folder.h"
#include "container.h"
#include "devcontainer.h"
#include "purge.h"
#include "up.h"

static const char *const kinds[] = {"container",    "image",       "snapshot",
				    "volume",       "engine image", "engine volume"};

static void print_plan(const dcfs_purge_plan *p, uint64_t *total, size_t *count)
{
	cli_table t;
	cli_table_init(&t, 4);
	cli_table_row(&t, "KIND", "NAME", "SIZE", "ACTION");
	*total = 0, *count = 0;
	for (size_t i = 0; i < p->n; i++) {
		const dcfs_purge_item *it = &p->items[i];
		char size[16], action[96];
		cli_human_size(it->bytes, size);
		snprintf(action, sizeof(action), "%s%s", it->kept ? "keep: " : "remove",
			 it->kept ? it->kept : "");
		cli_table_row(&t, kinds[it->kind], it->name, size, action);
		if (!it->kept)
			*total += it->bytes, (*count)++;
	}
	cli_table_print(&t, stderr);
	cli_table_free(&t);
}

static int confirm(dcfs_cli *cli, size_t count, uint64_t total)
{
	char size[16];
	cli_human_size(total, size);
	if (!isatty(STDIN_FILENO))
		return dcfs_error_set(&cli->err, ECANCELED,
				      "rebuild --full removes the %zu objects above (%s): confirm on a "
				      "terminal or pass --yes", count, size);
	fprintf(stderr, "Remove these %zu objects (%s)? [y/N] ", count, size);
	char line[16];
	if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y'))
		return dcfs_error_set(&cli->err, ECANCELED, "rebuild --full: nothing removed");
	return 0;
}

/* The purge; `up` then pulls the image again when the purge removed it. */
static int purge(dcfs_cli *cli, dcfs_store **s, const dcfs_up_opts *o, bool yes)
{
	dcfs_error *e = &cli->err;
	dcfs_prebuild_key key;
	_cleanup_free_ char *config_file = NULL, *image = NULL;
	dcfs_up_opts look = *o;
	look.no_pull = true; /* only which image: it may be about to go */
	int r = dcfs_up_key(*s, &look, &key, &config_file, &image, e);
	/* the image missing is fine here (the purge may remove it anyway, `up` pulls it) */
	if (r < 0 && !(r == -ENOENT && config_file && image))
		return r;
	dcfs_error_clear(e);
	_cleanup_free_ char *folder = dcfs_host_path_absolute(o->folder ? o->folder : "."), *variant = NULL;
	if (!folder || dcfs_container_variant(folder, config_file, o->config_file, &variant) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	dcfs_purge_plan plan;
	if ((r = dcfs_purge_plan_make(*s, folder, variant, image, &plan, e)) < 0)
		return r;
	uint64_t total;
	size_t count;
	print_plan(&plan, &total, &count);
	if (!yes && count && (r = confirm(cli, count, total)) < 0) {
		dcfs_purge_plan_free(&plan);
		return r;
	}
	cli_store_close(cli); /* the purge takes the store's lock alone */
	*s = NULL;
	uint64_t freed = 0;
	r = dcfs_purge_run(cli->store_path, &plan, &freed, e);
	dcfs_purge_plan_free(&plan);
	if (r < 0 || (r = cli_store(cli, s)) < 0)
		return r;
	char human[16];
	cli_human_size(freed, human);
	fprintf(stderr, "rebuild --full: removed %zu objects, reclaimed %s (%llu bytes)\n", count,
		human, (unsigned long long)freed);
	return 0;
}

int cmd_rebuild(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {
		{"full", no_argument, NULL, 'f'},
		{"yes", no_argument, NULL, 'y'},
		CLI_UP_OPTIONS,
		{0},
	};
	dcfs_up_opts o = {.remove_existing = true, .no_prebuild = true};
	bool full = false, yes = false, json = false;
	int c;
	optind = 0;
	while ((c = cli_getopt(cli, argc, argv, "y", opts)) != -1) {
		if (c == 'f')
			full = true;
		else if (c == 'y')
			yes = true;
		else if (!cli_up_option(c, &o, &json))
			return cli_usage(cli, NULL);
	}
	int usage = cli_folder_arg(cli, argc, argv, &o.folder);
	if (usage)
		return usage;
	if (yes && !full)
		return cli_usage(cli, "--yes goes with --full");
	o.pull_base = full; /* a Dockerfile's base images are pulled afresh */
	dcfs_report report;
	cli_pull_progress_state prog;
	cli_up_notes(&o, stderr, &report, &prog); /* "pulling IMAGE" */
	dcfs_store *s = NULL;
	if (cli_check_up_config(cli, o.folder, o.config_file, stderr) < 0 ||
	    cli_store(cli, &s) < 0)
		return 1;
	/* the purge removes the container: its engine is kept for the new one */
	_cleanup_(dcfs_container_free) dcfs_container old = {0};
	if (!o.engine && dcfs_container_of(s, o.folder, o.config_file, &old, NULL) >= 0 &&
	    dcfs_container_on_engine(&old))
		o.engine = old.engine;
	if (full && purge(cli, &s, &o, yes) < 0)
		return 1;
	return cli_up_run(cli, s, &o, json);
}
