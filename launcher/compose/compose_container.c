/* The service's container of a Compose project, found through the engine by the labels every
 * compose tool sets (com.docker.compose.project and .service; podman-compose sets them too);
 * a running one is preferred. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "compose.h"
#include "jsonc.h"

int dcfs_compose_container(const dcfs_compose *c, dcfs_engine *en, const char *service,
			   char **id, dcfs_error *e)
{
	*id = NULL;
	_cleanup_free_ char *project = NULL, *svc = NULL;
	if (asprintf(&project, "com.docker.compose.project=%s", c->project) < 0 ||
	    asprintf(&svc, "com.docker.compose.service=%s", service) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	const char *labels[] = {project, svc, NULL};
	_cleanup_json_ cJSON *list = NULL;
	int r = dcfs_engine_list(en, labels, &list, e);
	if (r < 0)
		return r;
	const char *best = NULL;
	const cJSON *it;
	cJSON_ArrayForEach(it, list)
	{
		const char *cid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "Id"));
		const char *state =
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "State"));
		if (cid && (!best || (state && !strcmp(state, "running"))))
			best = cid;
	}
	if (!best)
		return -ENOENT;
	*id = strdup(best);
	return *id ? 0 : dcfs_error_set(e, ENOMEM, "out of memory");
}
