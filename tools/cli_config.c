/* What the commands that read a configuration print about it (see cli.h): its warnings, one
 * line each on stderr, and for the commands that run it (up, prebuild, rebuild) the same
 * reading `up` makes, refusing what it cannot run, with the unmet host requirements and the
 * editor extensions it records. */
#include <stdio.h>

#include "cleanup.h"
#include "cli.h"
#include "devcontainer.h"

void cli_print_warnings(const dcfs_diags *w)
{
	for (size_t i = 0; i < w->n; i++)
		fprintf(stderr, "dcfs: warning: %s\n", w->v[i]);
}

/* customizations.vscode.extensions (the legacy top-level ones are moved there) */
static void print_extensions(const cJSON *config, FILE *notes)
{
	const cJSON *custom = cJSON_GetObjectItemCaseSensitive(config, "customizations");
	const cJSON *vscode = cJSON_GetObjectItemCaseSensitive(custom, "vscode");
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(vscode, "extensions");
	int n = 0;
	for (const cJSON *it = cJSON_IsArray(ext) ? ext->child : NULL; it; it = it->next)
		n += cJSON_IsString(it);
	if (!n || !notes)
		return;
	fprintf(notes, "note: %d editor extension%s recorded (dcfs installs none):", n,
		n == 1 ? "" : "s");
	const char *sep = " ";
	for (const cJSON *it = ext->child; it; it = it->next)
		if (cJSON_IsString(it)) {
			fprintf(notes, "%s%s", sep, it->valuestring);
			sep = ", ";
		}
	fputc('\n', notes);
}

int cli_check_up_config(dcfs_cli *cli, const char *folder, const char *config_file, FILE *notes)
{
	dcfs_devcontainer_opts o = {.folder = folder, .config_file = config_file,
				    .container = true, .host_store = cli->store_path};
	_cleanup_(dcfs_devcontainer_free) dcfs_devcontainer d = {0};
	if (dcfs_devcontainer_read(&o, &d, &cli->err) < 0)
		return -1;
	cli_print_warnings(&d.warnings);
	print_extensions(d.config, notes);
	return 0;
}
