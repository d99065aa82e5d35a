/* A Compose setup kept with its container (compose.h): the tool, project, files (the override
 * among them), service, runServices and working folder as JSON, so that `down`, `rm` and
 * `rebuild` act later on the project `up` made. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "compose.h"
#include "fsutil.h"
#include "jsonc.h"

int dcfs_compose_save(const dcfs_compose *c, const char *path, dcfs_error *e)
{
	_cleanup_json_ cJSON *o = cJSON_CreateObject();
	cJSON *tool = cJSON_AddArrayToObject(o, "tool");
	for (char **t = c->tool; t && *t; t++)
		cJSON_AddItemToArray(tool, cJSON_CreateString(*t));
	cJSON_AddStringToObject(o, "project", c->project);
	cJSON_AddItemToObject(o, "files", cJSON_Duplicate(c->files, 1));
	cJSON_AddStringToObject(o, "service", c->service);
	if (c->run_services)
		cJSON_AddItemToObject(o, "runServices", cJSON_Duplicate(c->run_services, 1));
	cJSON_AddStringToObject(o, "workdir", c->workdir);
	_cleanup_free_ char *text = cJSON_Print(o);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!text || fd < 0 || dcfs_write_all(fd, text, strlen(text)) < 0)
		return dcfs_error_set(e, errno ? errno : EIO, "cannot write '%s': %m", path);
	return 0;
}

static char *string_of(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	return s ? strdup(s) : NULL;
}

int dcfs_compose_load(const char *path, const dcfs_engine *en, dcfs_compose *out,
		      dcfs_error *e)
{
	*out = (dcfs_compose){.engine = en};
	_cleanup_json_ cJSON *o = NULL;
	int r = dcfs_jsonc_parse_file(path, &o, e);
	if (r < 0)
		return r;
	const cJSON *tool = cJSON_GetObjectItemCaseSensitive(o, "tool"), *it;
	size_t n = (size_t)cJSON_GetArraySize(tool), k = 0;
	out->tool = calloc(n + 1, sizeof(char *));
	cJSON_ArrayForEach(it, tool)
		if (out->tool && cJSON_IsString(it))
			out->tool[k++] = strdup(it->valuestring);
	out->project = string_of(o, "project");
	out->service = string_of(o, "service");
	out->workdir = string_of(o, "workdir");
	out->files = cJSON_DetachItemFromObject(o, "files");
	out->run_services = cJSON_DetachItemFromObject(o, "runServices");
	if (!out->tool || !k || !out->project || !out->service || !out->workdir || !out->files) {
		dcfs_compose_free(out);
		return dcfs_error_set(e, EINVAL, "%s: not a compose setup dcfs saved", path);
	}
	return 0;
}
