/* Reading devcontainer.json (see devcontainer.h), after the reference CLI's
 * readDevContainerConfigFile: find the file, parse it as JSONC, check it against the schema
 * (config_check.c, where the places are known), move the legacy properties,
 * work out the workspace folder and mount, substitute variables everywhere, and record where
 * the configuration came from. */
#include "devcontainer.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "jsonc.h"
#include "substitute.h"

/* ---- paths ------------------------------------------------------------------------------- */

/* Append the components of `path` to `out` (an absolute path, no trailing '/'), resolving '.'
 * and '..' lexically. */
static void append_components(char *out, const char *path)
{
	for (const char *p = path; *p;) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (n == 2 && !strncmp(p, "..", 2)) {
			char *slash = strrchr(out, '/');
			slash[slash == out ? 1 : 0] = '\0';
		} else if (n && !(n == 1 && *p == '.')) {
			if (strcmp(out, "/"))
				strcat(out, "/");
			strncat(out, p, n);
		}
		p = *end ? end + 1 : end;
	}
}

char *dcfs_host_path_absolute(const char *path)
{
	_cleanup_free_ char *cwd = path[0] == '/' ? NULL : getcwd(NULL, 0);
	if (path[0] != '/' && !cwd)
		return NULL;
	char *out = malloc((cwd ? strlen(cwd) : 0) + strlen(path) + 3);
	if (!out)
		return NULL;
	strcpy(out, "/");
	if (cwd)
		append_components(out, cwd);
	append_components(out, path);
	return out;
}

static char *path_join(const char *a, const char *b)
{
	char *s = NULL;
	size_t n = strlen(a);
	return asprintf(&s, "%s%s%s", a, n && a[n - 1] == '/' ? "" : "/", b) < 0 ? NULL : s;
}

static const char *base_name(const char *abs)
{
	const char *slash = strrchr(abs, '/');
	return slash && slash[1] ? slash + 1 : abs;
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- finding the file -------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .devcontainer/<sub>/devcontainer.json files, sorted; *n of them in *out. */
static int find_subfolder_configs(const char *folder, char ***out, size_t *n, dcfs_error *e)
{
	_cleanup_free_ char *dir = path_join(folder, ".devcontainer");
	if (!dir)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_closedir_ DIR *d = opendir(dir);
	*out = NULL;
	*n = 0;
	for (struct dirent *de; d && (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		char *rel = NULL;
		if (asprintf(&rel, ".devcontainer/%s/devcontainer.json", de->d_name) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		_cleanup_free_ char *full = path_join(folder, rel);
		char **grown =
			full && is_file(full) ? realloc(*out, (*n + 1) * sizeof(char *)) : NULL;
		if (!grown) {
			free(rel);
			if (!full || is_file(full))
				return dcfs_error_set(e, ENOMEM, "out of memory");
			continue;
		}
		*out = grown;
		(*out)[(*n)++] = rel;
	}
	if (*n)
		qsort(*out, *n, sizeof(char *), cmp_str);
	return 0;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static int several_configs(const char *folder, char **list, size_t n, dcfs_error *e)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(list[i]) + 2;
	_cleanup_free_ char *names = calloc(1, len);
	if (!names)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(names, ", ");
		strcat(names, list[i]);
	}
	return dcfs_error_set(e, EINVAL,
			      "several configurations in '%s' (%s): choose one with --config",
			      folder, names);
}

int dcfs_devcontainer_find(const char *folder, char **out, dcfs_error *e)
{
	static const char *const fixed[] = {".devcontainer/devcontainer.json",
					    ".devcontainer.json"};
	for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
		_cleanup_free_ char *p = path_join(folder, fixed[i]);
		if (!p)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		if (is_file(p)) {
			*out = TAKE_PTR(p);
			return 0;
		}
	}
	char **list = NULL;
	size_t n = 0;
	int r = find_subfolder_configs(folder, &list, &n, e);
	if (r < 0)
		return r;
	if (n == 1)
		*out = path_join(folder, list[0]);
	else if (n > 1)
		r = several_configs(folder, list, n, e);
	else
		r = dcfs_error_set(e, ENOENT,
				   "no devcontainer.json in '%s' (looked for %s, %s and"
				   " .devcontainer/*/devcontainer.json)",
				   folder, fixed[0], fixed[1]);
	free_list(list, n);
	if (r == 0 && !*out)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return r;
}

/* ---- legacy properties ------------------------------------------------------------------- */

static int set_member(cJSON *obj, const char *key, cJSON *val)
{
	if (!val)
		return -ENOMEM;
	bool ok = cJSON_GetObjectItemCaseSensitive(obj, key)
			  ? cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val)
			  : cJSON_AddItemToObject(obj, key, val);
	if (!ok)
		cJSON_Delete(val);
	return ok ? 0 : -ENOMEM;
}

/* obj[key] as an object, created (or replacing a non-object) when needed. */
static cJSON *object_member(cJSON *obj, const char *key)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (cJSON_IsObject(o))
		return o;
	return set_member(obj, key, cJSON_CreateObject()) < 0
		       ? NULL
		       : cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* JavaScript truthiness of a JSON value. */
static bool truthy(const cJSON *v)
{
	if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return false;
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	if (cJSON_IsString(v))
		return v->valuestring[0] != '\0';
	return true;
}

/* vscode.extensions = (vscode.extensions || []).concat(extensions) */
static int move_extensions(cJSON *vscode, cJSON *ext)
{
	cJSON *old = cJSON_GetObjectItemCaseSensitive(vscode, "extensions");
	cJSON *arr = cJSON_IsArray(old) ? cJSON_Duplicate(old, true) : cJSON_CreateArray();
	if (!arr)
		return -ENOMEM;
	if (truthy(old) && !cJSON_IsArray(old))
		cJSON_AddItemToArray(arr, cJSON_Duplicate(old, true));
	if (cJSON_IsArray(ext)) {
		for (cJSON *c = ext->child; c; c = c->next)
			cJSON_AddItemToArray(arr, cJSON_Duplicate(c, true));
	} else {
		cJSON_AddItemToArray(arr, cJSON_Duplicate(ext, true));
	}
	return set_member(vscode, "extensions", arr);
}

/* vscode.settings = {...settings, ...vscode.settings} */
static int move_settings(cJSON *vscode, cJSON *settings)
{
	cJSON *old = cJSON_GetObjectItemCaseSensitive(vscode, "settings");
	cJSON *merged =
		cJSON_IsObject(settings) ? cJSON_Duplicate(settings, true) : cJSON_CreateObject();
	if (!merged)
		return -ENOMEM;
	for (cJSON *c = cJSON_IsObject(old) ? old->child : NULL; c; c = c->next)
		if (set_member(merged, c->string, cJSON_Duplicate(c, true)) < 0) {
			cJSON_Delete(merged);
			return -ENOMEM;
		}
	return set_member(vscode, "settings", merged);
}

int dcfs_devcontainer_normalize(cJSON *config, dcfs_error *e)
{
	cJSON *ext = cJSON_GetObjectItemCaseSensitive(config, "extensions");
	cJSON *settings = cJSON_GetObjectItemCaseSensitive(config, "settings");
	cJSON *port = cJSON_GetObjectItemCaseSensitive(config, "devPort");
	if (!truthy(ext) && !truthy(settings) && !port)
		return 0;
	cJSON *custom = object_member(config, "customizations");
	cJSON *vscode = custom ? object_member(custom, "vscode") : NULL;
	int r = vscode ? 0 : -ENOMEM;
	if (r == 0 && truthy(ext) && (r = move_extensions(vscode, ext)) == 0)
		cJSON_DeleteItemFromObjectCaseSensitive(config, "extensions");
	if (r == 0 && truthy(settings) && (r = move_settings(vscode, settings)) == 0)
		cJSON_DeleteItemFromObjectCaseSensitive(config, "settings");
	if (r == 0 && port)
		r = set_member(vscode, "devPort",
			       cJSON_DetachItemFromObjectCaseSensitive(config, "devPort"));
	return r < 0 ? dcfs_error_set(e, ENOMEM, "out of memory") : 0;
}

/* ---- the workspace ----------------------------------------------------------------------- */

/* The nearest folder at or above `folder` with a .git entry, else `folder` itself (the
 * reference asks `git rev-parse --show-cdup`). */
static char *git_root(const char *folder)
{
	_cleanup_free_ char *cur = strdup(folder);
	while (cur) {
		_cleanup_free_ char *git = path_join(cur, ".git");
		struct stat st;
		if (git && lstat(git, &st) == 0)
			return TAKE_PTR(cur);
		if (!strcmp(cur, "/"))
			break;
		char *slash = strrchr(cur, '/');
		slash[slash == cur ? 1 : 0] = '\0';
	}
	return strdup(folder);
}

/* "/workspaces/<folder relative to the mount's parent>" */
static char *default_workspace_folder(const char *mount_src, const char *folder)
{
	const char *slash = strrchr(mount_src, '/');
	size_t parent_len = slash == mount_src ? 1 : (size_t)(slash - mount_src);
	const char *rel = folder + parent_len;
	while (*rel == '/')
		rel++;
	char *s = NULL;
	return asprintf(&s, "/workspaces/%s", rel) < 0 ? NULL : s;
}

static char *default_workspace_mount(const char *src)
{
	_cleanup_free_ char *target = NULL;
	if (asprintf(&target, "/workspaces/%s", base_name(src)) < 0)
		return NULL;
	const char *sq = strchr(src, ',') ? "\"" : "", *tq = strchr(target, ',') ? "\"" : "";
	char *s = NULL;
	return asprintf(&s, "type=bind,%ssource=%s%s,%starget=%s%s", sq, src, sq, tq, target, tq) <
			       0
		       ? NULL
		       : s;
}

/* The workspace before substitution (getWorkspaceConfiguration): its folder feeds
 * `${containerWorkspaceFolder}`. */
static int raw_workspace(const cJSON *config, const char *folder, bool git, cJSON **out)
{
	cJSON *ws = cJSON_CreateObject();
	const cJSON *wf = cJSON_GetObjectItemCaseSensitive(config, "workspaceFolder");
	bool compose = cJSON_HasObjectItem(config, "dockerComposeFile");
	bool has_mount = cJSON_HasObjectItem(config, "workspaceMount");
	_cleanup_free_ char *src = git ? git_root(folder) : strdup(folder);
	_cleanup_free_ char *f = NULL, *m = NULL;
	if (truthy(wf) && cJSON_IsString(wf))
		f = strdup(wf->valuestring);
	else
		f = compose ? strdup("/") : src ? default_workspace_folder(src, folder) : NULL;
	if (!compose && !has_mount && src)
		m = default_workspace_mount(src);
	if (!ws || !src || !f || (!compose && !has_mount && !m) ||
	    !cJSON_AddStringToObject(ws, "workspaceFolder", f) ||
	    (m && !cJSON_AddStringToObject(ws, "workspaceMount", m))) {
		cJSON_Delete(ws);
		return -ENOMEM;
	}
	*out = ws;
	return 0;
}

/* After substitution, the configuration's own values win. */
static int final_workspace(cJSON *ws, const cJSON *config)
{
	const cJSON *wf = cJSON_GetObjectItemCaseSensitive(config, "workspaceFolder");
	const cJSON *wm = cJSON_GetObjectItemCaseSensitive(config, "workspaceMount");
	int r = 0;
	if (cJSON_IsString(wf))
		r = set_member(ws, "workspaceFolder", cJSON_CreateString(wf->valuestring));
	if (r == 0 && wm)
		r = set_member(ws, "workspaceMount", cJSON_Duplicate(wm, true));
	return r;
}

/* configFilePath, as the reference prints its URI object: a file named with --config has the
 * scheme "file", one found in the folder "vscode-fileHost". */
static int add_config_path(cJSON *config, const char *abs, bool given)
{
	cJSON *uri = cJSON_CreateObject();
	if (!uri || !cJSON_AddNumberToObject(uri, "$mid", 1) ||
	    !cJSON_AddStringToObject(uri, "fsPath", abs) ||
	    !cJSON_AddStringToObject(uri, "path", abs) ||
	    !cJSON_AddStringToObject(uri, "scheme", given ? "file" : "vscode-fileHost")) {
		cJSON_Delete(uri);
		return -ENOMEM;
	}
	return set_member(config, "configFilePath", uri);
}

/* ---- reading ----------------------------------------------------------------------------- */

static int locate(const dcfs_devcontainer_opts *opts, dcfs_devcontainer *d, char **shown,
		  dcfs_error *e)
{
	const char *folder = opts->folder ? opts->folder : ".";
	int r = 0;
	d->given = opts->config_file != NULL;
	if (opts->config_file)
		*shown = strdup(opts->config_file);
	else if ((r = dcfs_devcontainer_find(folder, shown, e)) < 0)
		return r;
	d->folder = dcfs_host_path_absolute(folder);
	d->config_file = *shown ? dcfs_host_path_absolute(*shown) : NULL;
	if (!*shown || !d->folder || !d->config_file)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

int dcfs_devcontainer_substitute(const dcfs_devcontainer *d, cJSON *json, dcfs_error *e)
{
	cJSON *wf = cJSON_GetObjectItemCaseSensitive(d->workspace, "workspaceFolder");
	char id[53];
	if (d->with_id && dcfs_devcontainer_id(d->folder, d->config_file, id, e) < 0)
		return -ENOMEM;
	dcfs_subst_ctx ctx = {
		.local_workspace_folder = d->folder,
		.container_workspace_folder = cJSON_GetStringValue(wf),
		.devcontainer_id = d->with_id ? id : NULL,
		.source = base_name(d->config_file),
	};
	return dcfs_subst_json(&ctx, json, e);
}

static int substitute_all(dcfs_devcontainer *d, dcfs_error *e)
{
	int r = dcfs_devcontainer_substitute(d, d->config, e);
	if (r < 0)
		return r;
	if (final_workspace(d->workspace, d->config) < 0 ||
	    add_config_path(d->config, d->config_file, d->given) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

/* Parse the file with the places of its items, and check it as written. */
static int parse_checked(const dcfs_devcontainer_opts *opts, dcfs_devcontainer *d,
			 const char *shown, dcfs_error *e)
{
	_cleanup_(dcfs_jsonc_positions_free) dcfs_jsonc_positions pos = {0};
	dcfs_config_check_opts co = {.name = shown, .pos = &pos, .container = opts->container};
	int r = dcfs_jsonc_parse_file_pos(shown, &d->config, &pos, e);
	if (r == 0)
		r = dcfs_config_check(d->config, &co, &d->warnings, e);
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(d->config, "hostRequirements");
	dcfs_host_facts host;
	if (r == 0 && req && opts->host_store && dcfs_host_facts_read(opts->host_store, &host) == 0 &&
	    dcfs_host_requirements_check(req, &host, &co, &d->warnings) < 0)
		r = dcfs_error_set(e, ENOMEM, "out of memory");
	return r;
}

int dcfs_devcontainer_read(const dcfs_devcontainer_opts *opts, dcfs_devcontainer *out,
			   dcfs_error *e)
{
	dcfs_devcontainer d = {.with_id = opts->with_id};
	_cleanup_free_ char *shown = NULL;
	int r = locate(opts, &d, &shown, e);
	if (r == 0)
		r = parse_checked(opts, &d, shown, e);
	if (r == 0)
		r = dcfs_devcontainer_normalize(d.config, e);
	if (r == 0 && raw_workspace(d.config, d.folder, opts->mount_git_root, &d.workspace) < 0)
		r = dcfs_error_set(e, ENOMEM, "out of memory");
	if (r == 0)
		r = substitute_all(&d, e);
	if (r < 0) {
		dcfs_devcontainer_free(&d);
		return r;
	}
	*out = d;
	return 0;
}

void dcfs_devcontainer_free(dcfs_devcontainer *d)
{
	free(d->folder);
	free(d->config_file);
	cJSON_Delete(d->config);
	cJSON_Delete(d->workspace);
	dcfs_diags_free(&d->warnings);
	*d = (dcfs_devcontainer){0};
}
