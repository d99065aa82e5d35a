/* JSONC: JSON with comments and trailing commas, as devcontainer.json is written, parsed into
 * cJSON with error positions. */
#pragma once

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"

/* Deepest nesting of objects and arrays accepted. */
#define DCFS_JSONC_MAX_DEPTH 512

/* Parse `len` bytes of JSONC. `//` and block comments and a trailing comma before '}' or ']'
 * are accepted, as is a leading UTF-8 BOM; duplicate keys keep the last value (in the place of
 * the first, as JSON.parse does). Anything else fails with -EINVAL and the message
 * "NAME:LINE:COL: expected ..." (1-based; the column counts characters). */
int dcfs_jsonc_parse(const char *text, size_t len, const char *name, cJSON **out, dcfs_error *e);

/* Read and parse a file; errors name it as given. */
int dcfs_jsonc_parse_file(const char *path, cJSON **out, dcfs_error *e);

static inline void dcfs_json_deletep(cJSON **p)
{
	if (*p)
		cJSON_Delete(*p);
}
#define _cleanup_json_ __attribute__((cleanup(dcfs_json_deletep)))

/* Print `json` as JavaScript's JSON.stringify would print the same value, which is what the
 * reference CLI outputs: object keys that are array indices ("0" to "4294967294") first in
 * numeric order, then the others in insertion order; numbers in JavaScript's shortest form
 * (1e+21, 1e-7, -0 as 0). `json` is rearranged (and its numbers become raw text) on the way.
 * malloc'd, NULL on ENOMEM. */
char *dcfs_json_print_js(cJSON *json);
