/* dcfs read-configuration: the devcontainer.json of a folder, normalized and substituted, with
 * its workspace folder and mount, printed as one JSON object shaped like the reference CLI's
 * `devcontainer read-configuration` output (without its `ociAuthDiagnostics`).
 * `--mount-workspace-git-root true|false` (default true, as in the reference) chooses whether
 * the enclosing git repository's root is what gets mounted. What the file has that dcfs does
 * not act on, or does not know, is said on stderr ("dcfs: warning: FILE:LINE:COL: ..."). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "devcontainer.h"
#include "jsonc.h"
#include "up.h"

static bool has_features(const dcfs_devcontainer *d)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(d->config, "features");
	return f && f->child;
}

/* The features' metadata entries after the image's, as their images' label has them. */
static int features_metadata(dcfs_devcontainer *d, dcfs_store *s, dcfs_cli *cli,
			     cJSON **metadata)
{
	if (!has_features(d))
		return 0;
	_cleanup_json_ cJSON *entries = NULL;
	_cleanup_error_ dcfs_error err = {0};
	dcfs_report report = cli_report(stderr);
	int r = dcfs_up_features_metadata(s, d, &report, &entries, &err);
	if (r == -ENOMEM)
		return dcfs_error_set(&cli->err, ENOMEM, "out of memory");
	if (r < 0) {
		/* a feature that cannot be fetched (no network) or read: the configuration is
		 * still printed, and the user told what it lacks (up would fail on it) */
		fprintf(stderr, "dcfs: warning: %s: the features' metadata is not merged: %s\n",
			d->config_file, err.msg ? err.msg : "cannot resolve the features");
		return 0;
	}
	if (!*metadata && !(*metadata = cJSON_CreateArray()))
		return dcfs_error_set(&cli->err, ENOMEM, "out of memory");
	cJSON *it;
	while ((it = cJSON_DetachItemFromArray(entries, 0)))
		cJSON_AddItemToArray(*metadata, it);
	return 0;
}

/* The merged configuration: with the image's metadata when the store holds the image (for a
 * Dockerfile configuration, the build of its Dockerfile as it is now). A store that cannot be
 * opened (not readable by this user) just has no metadata to offer (the command table says
 * DCFS_CMD_STORE_OPTIONAL). With `features`, their metadata follows the image's, as the
 * images `up` makes for them carry it: they are resolved, and fetched into the store when it
 * lacks them, as the reference CLI fetches them for this command. A feature that cannot be
 * fetched or read is a warning naming it, and the features' metadata is left out. */
static int merge(dcfs_devcontainer *d, dcfs_cli *cli, cJSON **out)
{
	dcfs_store *s = NULL;
	_cleanup_json_ cJSON *metadata = NULL;
	_cleanup_free_ char *built = NULL;
	if (cli_store(cli, &s) == 0 && s) {
		/* a Dockerfile that cannot be read or hashed just has no stored build (as the
		 * reference CLI, read-configuration reads no Dockerfile); only memory fails */
		_cleanup_error_ dcfs_error ignored = {0};
		if (dcfs_up_built_image(s, d, &built, &ignored) == -ENOMEM)
			return dcfs_error_set(&cli->err, ENOMEM, "out of memory");
		if ((built || cJSON_HasObjectItem(d->config, "image")) &&
		    dcfs_devcontainer_image_metadata(d, s, built, &metadata, &cli->err) < 0)
			return -1;
		if (features_metadata(d, s, cli, &metadata) < 0)
			return -1;
	} else if (has_features(d)) {
		fprintf(stderr, "dcfs: warning: %s: the features' metadata is not merged: the store "
				"cannot be opened to fetch them\n", d->config_file);
	}
	return dcfs_devcontainer_merge(d->config, metadata, out, &cli->err);
}

static int print_result(dcfs_devcontainer *d, bool merged, dcfs_cli *cli)
{
	_cleanup_json_ cJSON *out = cJSON_CreateObject();
	if (!out)
		return dcfs_error_set(&cli->err, ENOMEM, "out of memory");
	cJSON *merged_config = NULL;
	if (merged && merge(d, cli, &merged_config) < 0)
		return -1;
	cJSON_AddItemToObject(out, "configuration", TAKE_PTR(d->config));
	cJSON_AddItemToObject(out, "workspace", TAKE_PTR(d->workspace));
	if (merged_config)
		cJSON_AddItemToObject(out, "mergedConfiguration", merged_config);
	_cleanup_free_ char *text = dcfs_json_print_js(out);
	if (!text)
		return dcfs_error_set(&cli->err, ENOMEM, "out of memory");
	puts(text);
	return 0;
}

int cmd_read_configuration(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"include-merged-configuration", no_argument, NULL, 'm'},
		{"mount-workspace-git-root", required_argument, NULL, 'g'},
		{0},
	};
	dcfs_devcontainer_opts o = {.mount_git_root = true};
	bool merged = false;
	int c;
	optind = 0; /* reinitialize getopt so that options may follow FOLDER */
	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c == 'c')
			o.config_file = optarg;
		else if (c == 'm')
			merged = true;
		else if (c == 'g' && (!strcmp(optarg, "true") || !strcmp(optarg, "false")))
			o.mount_git_root = !strcmp(optarg, "true");
		else
			return cli_usage(cli, NULL);
	}
	if (argc - optind > 1)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	o.folder = optind < argc ? argv[optind] : NULL;
	dcfs_devcontainer d = {0};
	if (dcfs_devcontainer_read(&o, &d, &cli->err) < 0)
		return 1;
	cli_print_warnings(&d.warnings);
	int r = print_result(&d, merged, cli);
	dcfs_devcontainer_free(&d);
	return r < 0 ? 1 : 0;
}
