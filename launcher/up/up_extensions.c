/* The editor extensions a configuration asks for (customizations.vscode.extensions, where the
 * legacy top-level `extensions` are moved): dcfs installs none, and records them with a new
 * container, in its folder's extensions.json (a JSON array of the ids), for tools to read. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "jsonc.h"
#include "up_internal.h"

int up_record_extensions(up_ctx *u)
{
	const cJSON *custom = cJSON_GetObjectItemCaseSensitive(u->d.config, "customizations");
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(custom, "vscode"), "extensions");
	_cleanup_json_ cJSON *list = cJSON_CreateArray();
	for (const cJSON *it = cJSON_IsArray(ext) ? ext->child : NULL; list && it; it = it->next)
		if (cJSON_IsString(it) && !cJSON_AddItemToArray(list, cJSON_CreateString(it->valuestring)))
			return dcfs_error_set(u->e, ENOMEM, "out of memory");
	_cleanup_free_ char *text = list ? cJSON_PrintUnformatted(list) : NULL;
	_cleanup_free_ char *path = dcfs_container_path(u->s, u->c.id, "extensions.json");
	if (!text || !path)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r = fd < 0 ? -errno : dcfs_write_all(fd, text, strlen(text));
	return r < 0 ? dcfs_error_set(u->e, -r, "cannot write '%s': %s", path, strerror(-r)) : 0;
}
