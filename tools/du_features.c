/* dcfs du's feature layers (see cli.h): each Dev Container Feature's layer in
 * the store, per configuration in install order, with its own size and the
 * containers whose image holds it; as a table, and as the JSON "featureList".
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

void du_features_print(const dcfs_feature_layer_info *f, size_t n, bool human) {
  if (!n)
    return;
  printf("\nFeature layers per configuration:\n\n");
  cli_table t;
  cli_table_init(&t, 6);
  cli_table_row(&t, "CONFIGURATION", "FEATURE", "VERSION", "KEY", "SIZE",
                "USED BY");
  for (size_t i = 0; i < n; i++) {
    bool first = i == 0 || strcmp(f[i - 1].config_file, f[i].config_file);
    char size[32], key[13];
    if (human)
      cli_human_size(f[i].size, size);
    else
      snprintf(size, sizeof(size), "%llu", (unsigned long long)f[i].size);
    snprintf(key, sizeof(key), "%.12s", f[i].key);
    cli_table_row(&t, first ? f[i].config_file : "", f[i].source, f[i].version,
                  key, size, f[i].containers ? f[i].containers : "-");
  }
  cli_table_print(&t, stdout);
  cli_table_free(&t);
}

/* "a, b" into ["a", "b"]. */
static cJSON *names(const char *joined) {
  cJSON *arr = cJSON_CreateArray();
  for (const char *p = joined; arr && p && *p;) {
    size_t len = strcspn(p, ",");
    char name[256];
    snprintf(name, sizeof(name), "%.*s", (int)len, p);
    cJSON_AddItemToArray(arr, cJSON_CreateString(name));
    p += len;
    p += strspn(p, ", ");
  }
  return arr;
}

void du_features_json(cJSON *o, const dcfs_feature_layer_info *f, size_t n) {
  cJSON *arr = cJSON_AddArrayToObject(o, "featureList");
  for (size_t i = 0; arr && i < n; i++) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "configFile", f[i].config_file);
    cJSON_AddStringToObject(j, "id", f[i].feature_id);
    cJSON_AddStringToObject(j, "version", f[i].version);
    cJSON_AddStringToObject(j, "source", f[i].source);
    cJSON_AddStringToObject(j, "key", f[i].key);
    cJSON_AddStringToObject(j, "ref", f[i].ref);
    cJSON_AddItemToObject(j, "options", cJSON_Parse(f[i].options));
    cJSON_AddNumberToObject(j, "created", (double)f[i].created);
    cJSON_AddNumberToObject(j, "size", (double)f[i].size);
    cJSON_AddItemToObject(j, "containers", names(f[i].containers));
    cJSON_AddItemToArray(arr, j);
  }
}
