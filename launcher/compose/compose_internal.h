/* What the files of launcher/compose share (and the unit tests read). Not an API. */
#pragma once

#include "compose.h"

/* The reference CLI's toProjectName: `text` lower-cased with only [-_a-z0-9] kept. */
char *dcfs_compose_project_name(const char *text);
/* A top-level `KEY: value` of YAML file `file`, unquoted; NULL when absent. */
char *dcfs_compose_top_value(const char *file, const char *key);
/* The override's JSON for c->service (compose_override.c). */
cJSON *dcfs_compose_override_json(const dcfs_compose *c, const dcfs_compose_override *o,
				  dcfs_error *e);
