/* Shared by pull.c (manifest, config, image) and pull_layers.c (layers). Not an API. */
#pragma once

#include <cjson/cJSON.h>

#include "pull.h"
#include "registry.h"

/* Layers downloaded at once, each on its own thread with its own store connection. */
#define PULL_WORKERS 3

typedef struct puller {
	dcfs_store *store;
	dcfs_registry *reg;
	const dcfs_pull_opts *opts;
	dcfs_pull_result *res;
} puller;

/* Pull the layers of manifest `m` (bottom first) into the store; (*ids)[i] receives the layer
 * id of the i-th (malloc'd array). */
int pull_layers(puller *p, const cJSON *m, int64_t **ids, dcfs_error *e);
