/* Assembling an OCI image config from `podman image inspect` / `docker image inspect` output
 * (see build_config.h). The inspect output's keys are Docker's (Architecture, Os, Created,
 * Config, RootFS.Layers, History); the config's are the OCI image spec's. */
#include "build_config.h"

#include <stddef.h>

#include "cleanup.h"

DEFINE_TRIVIAL_CLEANUP(cJSON *, cJSON_Delete)

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* out[to] = a copy of from[key], when from has it and it is not null. */
static int copy(cJSON *out, const char *to, const cJSON *from, const char *key)
{
	const cJSON *v = get(from, key);
	if (!v || cJSON_IsNull(v))
		return 0;
	cJSON *c = cJSON_Duplicate(v, 1);
	return c && cJSON_AddItemToObject(out, to, c) ? 0 : -1;
}

static cJSON *run_config(const cJSON *config)
{
	static const char *const keys[] = {"User",    "Env",	      "Entrypoint", "Cmd",
					   "WorkingDir", "Labels", "ExposedPorts", "Volumes",
					   "StopSignal"};
	cJSON *out = cJSON_CreateObject();
	for (size_t i = 0; out && i < ELEMENTSOF(keys); i++)
		if (copy(out, keys[i], config, keys[i]) < 0) {
			cJSON_Delete(out);
			return NULL;
		}
	return out;
}

static cJSON *rootfs(const cJSON *inspect)
{
	cJSON *out = cJSON_CreateObject();
	if (!out || !cJSON_AddStringToObject(out, "type", "layers") ||
	    copy(out, "diff_ids", get(inspect, "RootFS"), "Layers") < 0) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

char *dcfs_build_config_from_inspect(const cJSON *inspect)
{
	_cleanup_(cJSON_Deletep) cJSON *out = cJSON_CreateObject();
	if (!out || copy(out, "architecture", inspect, "Architecture") < 0 ||
	    copy(out, "os", inspect, "Os") < 0 || copy(out, "created", inspect, "Created") < 0)
		return NULL;
	cJSON *config = run_config(get(inspect, "Config"));
	if (!config || !cJSON_AddItemToObject(out, "config", config))
		return cJSON_Delete(config), NULL;
	cJSON *fs = rootfs(inspect);
	if (!fs || !cJSON_AddItemToObject(out, "rootfs", fs))
		return cJSON_Delete(fs), NULL;
	if (copy(out, "history", inspect, "History") < 0)
		return NULL;
	return cJSON_PrintUnformatted(out);
}
