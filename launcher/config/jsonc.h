/* JSONC: JSON with comments and trailing commas, as devcontainer.json is written, parsed into
 * cJSON with error positions. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
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

/* Where each item of a parsed document was written (1-based line and column, columns counting
 * characters): the value's first character and, for an object member, its key's opening
 * quote (0:0 for the top-level value and array elements). Filled by the _pos parsers only,
 * so the plain parse does no extra work. */
typedef struct dcfs_jsonc_place {
	int line, col;		/* the value */
	int key_line, key_col;	/* the member's key; 0 when the item is not an object member */
} dcfs_jsonc_place;

typedef struct dcfs_jsonc_positions {
	dcfs_jsonc_place *v; /* in the order the values ended */
	size_t n, cap;
	struct dcfs_map *index; /* item pointer -> index in v */
} dcfs_jsonc_positions;

/* As dcfs_jsonc_parse(_file), also recording in `pos` (zero-initialized by the caller; release
 * with dcfs_jsonc_positions_free) where every item of *out is. */
int dcfs_jsonc_parse_pos(const char *text, size_t len, const char *name, cJSON **out,
			 dcfs_jsonc_positions *pos, dcfs_error *e);
int dcfs_jsonc_parse_file_pos(const char *path, cJSON **out, dcfs_jsonc_positions *pos,
			      dcfs_error *e);
/* The place of `item` (an item of the document parsed with `pos`); NULL when unknown. */
const dcfs_jsonc_place *dcfs_jsonc_place_of(const dcfs_jsonc_positions *pos, const cJSON *item);
void dcfs_jsonc_positions_free(dcfs_jsonc_positions *pos);

static inline void dcfs_json_deletep(cJSON **p)
{
	if (*p)
		cJSON_Delete(*p);
}
#define _cleanup_json_ __attribute__((cleanup(dcfs_json_deletep)))

/* obj[key], made an empty object (array: an empty array) when it is missing or of another
 * type; NULL when memory runs out. */
cJSON *dcfs_json_slot(cJSON *obj, const char *key, bool array);

/* Print `json` as JavaScript's JSON.stringify would print the same value, which is what the
 * reference CLI outputs: object keys that are array indices ("0" to "4294967294") first in
 * numeric order, then the others in insertion order; numbers in JavaScript's shortest form
 * (1e+21, 1e-7, -0 as 0). `json` is rearranged (and its numbers become raw text) on the way.
 * malloc'd, NULL on ENOMEM. */
char *dcfs_json_print_js(cJSON *json);

/* Sort every object's members by name, in place (recursively), so that equal values print
 * alike whatever order their keys were written in. -ENOMEM or 0. */
int dcfs_json_sort_keys(cJSON *j);
