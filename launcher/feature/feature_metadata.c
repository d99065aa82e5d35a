/* A feature's entry of an image's `devcontainer.metadata` label (see
 * feature.h), as the reference CLI labels the image its feature build makes
 * (imageMetadata.ts): `id`, the key as written, and the properties it picks
 * from devcontainer-feature.json (pickFeatureProperties). containerEnv is not
 * among them: it becomes the image's Env. */
#include <stddef.h>

#include "cleanup.h"
#include "feature.h"

static const char *const picked[] = {
    "init",
    "privileged",
    "capAdd",
    "securityOpt",
    "entrypoint",
    "mounts",
    "customizations",
    "onCreateCommand",
    "updateContentCommand",
    "postCreateCommand",
    "postStartCommand",
    "postAttachCommand",
};

cJSON *dcfs_feature_metadata_entry(const dcfs_feature *f) {
  cJSON *m = cJSON_CreateObject();
  if (!m || !cJSON_AddStringToObject(m, "id", f->src.written))
    return cJSON_Delete(m), NULL;
  for (size_t i = 0; i < ELEMENTSOF(picked); i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->json, picked[i]);
    if (v && !cJSON_AddItemToObject(m, picked[i], cJSON_Duplicate(v, true)))
      return cJSON_Delete(m), NULL;
  }
  return m;
}
