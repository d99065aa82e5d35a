/* Private to launcher/engine: the state a dev container's create body is built in, shared by
 * engine_spec.c (the properties), engine_run_args.c (the runArgs flag table), engine_mounts.c
 * (mounts, volumes, tmpfs), engine_ports.c (published ports), engine_security.c
 * (security options) and engine_values.c (sizes,
 * numbers and the small JSON helpers they all use). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "engine_spec.h"
#include "error.h"

typedef struct spec_ctx {
	const dcfs_engine_spec *s;
	cJSON *body;	    /* the create object */
	cJSON *host;	    /* body.HostConfig */
	cJSON *aliases;	    /* --network-alias values; NULL: none */
	char *name;	    /* --name */
	const char *flag;   /* the runArgs flag being applied, as written (for messages) */
	dcfs_error *e;
} spec_ctx;

/* "CONFIG_NAME: runArgs: 'FLAG': WHY" with code `code` (EINVAL, ENOTSUP). */
int spec_flag_error(spec_ctx *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* obj[key], made an empty object/array when missing or of another type; NULL: no memory. */
cJSON *spec_object(cJSON *obj, const char *key);
cJSON *spec_array(cJSON *obj, const char *key);
/* obj[key] = value, replacing any earlier one. Each takes `item` (freed on failure). */
int spec_put(cJSON *obj, const char *key, cJSON *item);
int spec_put_string(cJSON *obj, const char *key, const char *value);
int spec_put_number(cJSON *obj, const char *key, double value);
int spec_append(cJSON *arr, cJSON *item);
int spec_append_string(cJSON *obj, const char *key, const char *value);

/* Env: "K=V" replacing an earlier K (a later -e wins, as docker run's does). */
int spec_env_set(cJSON *body, const char *kv);

/* Docker's sizes (units.RAMInBytes): "1g", "512m", "64k", "1.5GB", "100" (bytes); false when
 * bad. */
bool spec_parse_size(const char *text, int64_t *out);
/* A whole decimal number in [min, max]; false when bad. */
bool spec_parse_int(const char *text, int64_t min, int64_t max, int64_t *out);

/* A devcontainer.json mount (string in --mount syntax, or {type, source, target}) appended to
 * HostConfig.Mounts; `label` names it in messages. */
int spec_mount_add(spec_ctx *c, const cJSON *m, const char *label);
/* Every entry of `mounts` (an array; NULL: none). */
int spec_mounts_add(spec_ctx *c, const cJSON *mounts, const char *label);
/* `path` relative to the configuration's folder (absolute: as it is); malloc'd. */
char *spec_config_path(const spec_ctx *c, const char *path);
/* One security option appended to HostConfig.SecurityOpt (a seccomp profile's file read and
 * sent inline); `label` starts its messages. */
int spec_security_opt(spec_ctx *c, const char *opt, const char *label);

/* Apply s->config's runArgs in order. */
int spec_run_args_apply(spec_ctx *c);
