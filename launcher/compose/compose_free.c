/* Releasing a compose setup (compose.h). */
#include <stdlib.h>

#include "compose.h"

void dcfs_compose_free(dcfs_compose *c)
{
	if (c->tool)
		for (char **t = c->tool; *t; t++)
			free(*t);
	free(c->tool);
	free(c->project);
	cJSON_Delete(c->files);
	free(c->service);
	cJSON_Delete(c->run_services);
	free(c->workdir);
	*c = (dcfs_compose){0};
}
