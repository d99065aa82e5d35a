/* dcfs ls: list dev containers: name, id, image, state (runc's when it knows the container,
 * else the catalog's), host folder and configuration file (a folder has a container per
 * configuration: `up --config`); --json prints an array of objects. The table escapes
 * what a terminal would act on (a folder may be named "\e]0;...\a"): control characters and
 * bytes that are not UTF-8 are written \xNN, a backslash \\.
 *
 *   dcfs ls [--json]
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"
#include "jsonc.h"
#include "strbuf.h"
#include "utf8.h"

/* One table cell, escaped; NULL when out of memory. */
static char *escaped(const char *s)
{
	dcfs_strbuf b = {0};
	int r = dcfs_strbuf_put(&b, "", 0);
	for (size_t len = strlen(s); r >= 0 && *s;) {
		uint32_t cp = 0;
		size_t n = dcfs_utf8_char(s, len, &cp);
		bool control = cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
		char hex[8];
		if (n && cp == '\\')
			r = dcfs_strbuf_put(&b, "\\\\", 2);
		else if (n && !control)
			r = dcfs_strbuf_put(&b, s, n);
		for (size_t i = 0; r >= 0 && (!n || control) && i < (n ? n : 1); i++) {
			snprintf(hex, sizeof(hex), "\\x%02x", (unsigned char)s[i]);
			r = dcfs_strbuf_put(&b, hex, 4);
		}
		s += n ? n : 1;
		len -= n ? n : 1;
	}
	if (r < 0)
		free(b.s);
	return r < 0 ? NULL : b.s;
}

/* What the engine says of its container: its state ("gone" when it has none, "unknown (...)"
 * when the engine does not answer) and its image (into c->image). */
static void engine_facts(dcfs_container *c, char **state)
{
	_cleanup_(dcfs_engine_close) dcfs_engine en = {0};
	_cleanup_error_ dcfs_error e = {0};
	_cleanup_json_ cJSON *info = NULL;
	int r = dcfs_container_engine_open(c, &en, &e);
	if (r >= 0)
		r = c->engine_id ? dcfs_engine_inspect(&en, c->engine_id, false, &info, &e) : -ENOENT;
	if (r == -ENOENT) {
		*state = strdup(c->engine_id ? "gone" : c->state);
		return;
	}
	if (r < 0) {
		if (asprintf(state, "unknown (%s does not answer)", c->engine) < 0)
			*state = NULL;
		return;
	}
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(info, "State");
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "Status"));
	/* the word runc's containers use */
	*state = strdup(!status ? "?" : !strcmp(status, "exited") ? "stopped" : status);
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(info, "Config");
	const char *image = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(config, "Image"));
	if (image && !c->image)
		c->image = strdup(image);
}

static void print_json(dcfs_container *list, char **states, size_t n)
{
	_cleanup_json_ cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", list[i].name);
		cJSON_AddStringToObject(o, "id", list[i].id);
		cJSON_AddStringToObject(o, "image", list[i].image ? list[i].image : "");
		cJSON_AddStringToObject(o, "state", states[i]);
		cJSON_AddStringToObject(o, "folder", list[i].folder ? list[i].folder : "");
		cJSON_AddStringToObject(o, "configFile", list[i].config_file ? list[i].config_file : "");
		cJSON_AddNumberToObject(o, "created", (double)list[i].created);
		cJSON_AddStringToObject(o, "engine", list[i].engine ? list[i].engine : "runc");
		if (list[i].engine_id)
			cJSON_AddStringToObject(o, "engineId", list[i].engine_id);
		cJSON_AddItemToArray(arr, o);
	}
	_cleanup_free_ char *s = cJSON_Print(arr);
	if (s)
		puts(s);
}

/* The configuration file, relative to the folder when it is inside ("-": not recorded). */
static const char *config_shown(const dcfs_container *c)
{
	size_t n = c->folder ? strlen(c->folder) : 0;
	if (!c->config_file)
		return "-";
	if (n && !strncmp(c->config_file, c->folder, n) && c->config_file[n] == '/')
		return c->config_file + n + 1;
	return c->config_file;
}

static void print_table(dcfs_container *list, char **states, size_t n)
{
	cli_table t;
	cli_table_init(&t, 7);
	cli_table_row(&t, "NAME", "CONTAINER ID", "IMAGE", "STATE", "ENGINE", "FOLDER", "CONFIG");
	for (size_t i = 0; i < n; i++) {
		char id[13];
		snprintf(id, sizeof(id), "%.12s", list[i].id);
		_cleanup_free_ char *name = escaped(list[i].name), *state = escaped(states[i]);
		_cleanup_free_ char *image = escaped(list[i].image ? list[i].image : "<gone>");
		_cleanup_free_ char *folder = escaped(list[i].folder), *eid = escaped(id);
		_cleanup_free_ char *config = escaped(config_shown(&list[i]));
		if (name && state && image && folder && eid && config)
			cli_table_row(&t, name, eid, image, state,
				      list[i].engine ? list[i].engine : "runc", folder, config);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

int cmd_ls(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {0}};
	bool json = false;
	int c;
	optind = 0;
	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c != 'j')
			return cli_usage(cli, NULL);
		json = true;
	}
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	dcfs_store *s = NULL;
	dcfs_container *list = NULL;
	size_t n = 0;
	_cleanup_free_ char *root = NULL;
	/* runc's state folder only when there is a container to ask about: a store that does not
	 * exist yet lists nothing rather than being created */
	if (cli_store(cli, &s) < 0 ||
	    dcfs_container_list(s, &list, &n, &cli->err) < 0 ||
	    (n > 0 && !(root = dcfs_container_runc_root(s, &cli->err))))
		return dcfs_container_list_free(list, n), 1;
	char **states = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; states && i < n; i++) {
		if (dcfs_container_on_engine(&list[i]))
			engine_facts(&list[i], &states[i]);
		else
			dcfs_runc_state(&(dcfs_runc){.root = root}, list[i].id, &states[i]);
		if (!states[i])
			states[i] = strdup(list[i].state);
	}
	if (states && json)
		print_json(list, states, n);
	else if (states)
		print_table(list, states, n);
	for (size_t i = 0; states && i < n; i++)
		free(states[i]);
	free(states);
	dcfs_container_list_free(list, n);
	return 0;
}
