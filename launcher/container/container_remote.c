/* remote.json: what `up` resolved about entering the container (see dcfs_remote in
 * container.h), so that `exec` needs neither the configuration nor the container's root. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "fsutil.h"
#include "jsonc.h"

int dcfs_remote_save(dcfs_store *s, const char *id, const dcfs_remote *r, dcfs_error *e)
{
	_cleanup_json_ cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "uid", r->user.uid);
	cJSON_AddNumberToObject(j, "gid", r->user.gid);
	if (r->user.name)
		cJSON_AddStringToObject(j, "user", r->user.name);
	cJSON_AddStringToObject(j, "home", r->user.home);
	cJSON_AddStringToObject(j, "workspaceFolder", r->workspace_folder);
	cJSON_AddItemToObject(j, "env", r->env ? cJSON_Duplicate(r->env, true) : cJSON_CreateArray());
	_cleanup_free_ char *text = cJSON_Print(j);
	_cleanup_free_ char *path = dcfs_container_path(s, id, "remote.json");
	if (!text || !path)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return dcfs_error_set(e, errno, "cannot write '%s': %m", path);
	int rc = dcfs_write_all(fd, text, strlen(text));
	return rc < 0 ? dcfs_error_set(e, rc, "cannot write '%s': %s", path, strerror(-rc)) : 0;
}

int dcfs_remote_load(dcfs_store *s, const char *id, dcfs_remote *out, dcfs_error *e)
{
	*out = (dcfs_remote){0};
	_cleanup_free_ char *path = dcfs_container_path(s, id, "remote.json");
	if (!path)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (access(path, F_OK) < 0)
		return dcfs_error_set(e, ENOENT, "container %s was never started", id);
	_cleanup_json_ cJSON *j = NULL;
	int r = dcfs_jsonc_parse_file(path, &j, e);
	if (r < 0)
		return r;
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "user"));
	const char *home = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "home"));
	const char *wf = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "workspaceFolder"));
	out->user.uid = (uint32_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "uid"));
	out->user.gid = (uint32_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "gid"));
	out->user.name = name ? strdup(name) : NULL;
	out->user.home = strdup(home ? home : "/");
	out->workspace_folder = strdup(wf ? wf : "/");
	out->env = cJSON_DetachItemFromObjectCaseSensitive(j, "env");
	if (!out->user.home || !out->workspace_folder)
		return dcfs_remote_free(out), dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

void dcfs_remote_free(dcfs_remote *r)
{
	dcfs_user_free(&r->user);
	free(r->workspace_folder);
	cJSON_Delete(r->env);
	*r = (dcfs_remote){0};
}
