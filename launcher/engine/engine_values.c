/* Small pieces of the create body: the runArgs error line, JSON slots that are made when
 * missing, the Env list with later keys winning, and Docker's size and number syntax. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "engine_spec_internal.h"
#include "jsonc.h"

int spec_flag_error(spec_ctx *c, int code, const char *fmt, ...)
{
	_cleanup_free_ char *why = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&why, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	return dcfs_error_set(c->e, code, "%s: runArgs: '%s': %s", c->s->config_name, c->flag,
			      why);
}

cJSON *spec_object(cJSON *obj, const char *key) { return dcfs_json_slot(obj, key, false); }
cJSON *spec_array(cJSON *obj, const char *key) { return dcfs_json_slot(obj, key, true); }

int spec_put(cJSON *obj, const char *key, cJSON *item)
{
	if (!item)
		return -ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	if (!cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return -ENOMEM;
	}
	return 0;
}

int spec_put_string(cJSON *obj, const char *key, const char *value)
{
	return spec_put(obj, key, cJSON_CreateString(value));
}

int spec_put_number(cJSON *obj, const char *key, double value)
{
	return spec_put(obj, key, cJSON_CreateNumber(value));
}

int spec_append(cJSON *arr, cJSON *item)
{
	if (!arr || !item || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		return -ENOMEM;
	}
	return 0;
}

int spec_append_string(cJSON *obj, const char *key, const char *value)
{
	return spec_append(spec_array(obj, key), cJSON_CreateString(value));
}

int spec_env_set(cJSON *body, const char *kv)
{
	cJSON *env = spec_array(body, "Env");
	if (!env)
		return -ENOMEM;
	size_t klen = strcspn(kv, "=");
	for (int i = cJSON_GetArraySize(env) - 1; i >= 0; i--) {
		const char *old = cJSON_GetArrayItem(env, i)->valuestring;
		if (old && strcspn(old, "=") == klen && !strncmp(old, kv, klen))
			cJSON_DeleteItemFromArray(env, i);
	}
	return spec_append(env, cJSON_CreateString(kv));
}

static const struct {
	const char *suffix;
	double factor;
} units[] = {
	{"", 1},	 {"b", 1},	   {"k", 1024.0},     {"kb", 1024.0},
	{"m", 1048576.0}, {"mb", 1048576.0}, {"g", 1073741824.0}, {"gb", 1073741824.0},
	{"t", 1099511627776.0}, {"tb", 1099511627776.0},
};

bool spec_parse_size(const char *text, int64_t *out)
{
	char *end = NULL;
	if (!text || !(isdigit((unsigned char)*text) || *text == '.'))
		return false;
	double n = strtod(text, &end);
	if (end == text || !isfinite(n))
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].suffix))
			continue;
		double v = n * units[i].factor;
		if (v >= 9.2e18)
			return false;
		*out = (int64_t)v;
		return true;
	}
	return false;
}

bool spec_parse_int(const char *text, int64_t min, int64_t max, int64_t *out)
{
	char *end = NULL;
	if (!text || !*text || isspace((unsigned char)*text))
		return false;
	errno = 0;
	long long n = strtoll(text, &end, 10);
	if (errno || *end || n < min || n > max)
		return false;
	*out = n;
	return true;
}
