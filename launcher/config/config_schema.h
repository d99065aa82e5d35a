/* The devcontainer.json schema as dcfs knows it (launcher/config/config_schema.c): every property of
 * the spec's devContainer.base.schema.json and the legacy ones, with its JSON type(s), how its
 * value is checked, and what dcfs does with it. launcher/config/config_check.c walks a configuration
 * against it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* JSON types, as a bit set. */
enum {
	DCFS_JT_STRING = 1,
	DCFS_JT_NUMBER = 2,
	DCFS_JT_INTEGER = 4, /* a number without a fraction */
	DCFS_JT_BOOL = 8,
	DCFS_JT_OBJECT = 16,
	DCFS_JT_ARRAY = 32,
	DCFS_JT_NULL = 64,
};

/* How a value is checked beyond its type. */
typedef enum dcfs_schema_value {
	DCFS_SV_ANY,	    /* the type only */
	DCFS_SV_ENUM,	    /* a string among `values` ("a|b|c") */
	DCFS_SV_COMMAND,    /* string, array of strings, or object of those (lifecycle commands) */
	DCFS_SV_STRINGS,    /* array of strings (a string too when the types say so) */
	DCFS_SV_STRING_MAP, /* object of strings (and nulls when `values` is "null") */
	DCFS_SV_PORTS,	    /* forwardPorts: integers 0 to 65535 or "host:port" */
	DCFS_SV_APP_PORT,   /* appPort: an integer, a string or an array of those */
	DCFS_SV_MOUNTS,	    /* array of strings or objects with the keys of `nested` */
	DCFS_SV_SIZE,	    /* "4gb", "512mb", "1.5tb": a number with an optional [kmgt]b unit */
	DCFS_SV_OBJECT_OF,  /* object whose values are objects with the keys of `nested` */
	DCFS_SV_GPU,	    /* true/false, "optional" or {cores, memory} */
	DCFS_SV_NESTED,	    /* an object with the keys of `nested` */
	DCFS_SV_FEATURES,   /* object: feature id -> options */
} dcfs_schema_value;

/* What dcfs does with a property. */
typedef enum dcfs_schema_support {
	DCFS_SUPPORTED,	 /* honoured (`note` says how where it is not obvious) */
	DCFS_RECORDED,	 /* kept where tools can read it, not acted on (`up` says so) */
	DCFS_IGNORED,	 /* not acted on: a warning by name, saying `note` */
	DCFS_IMAGE_ONLY, /* of Dockerfile/Compose configurations: `up` refuses, others warn */
} dcfs_schema_support;

struct dcfs_schema_object;

typedef struct dcfs_schema_prop {
	const char *name;
	unsigned types; /* DCFS_JT_* */
	dcfs_schema_value value;
	const char *values; /* DCFS_SV_ENUM: "a|b|c"; DCFS_SV_STRING_MAP: "null" allows nulls */
	const struct dcfs_schema_object *nested;
	dcfs_schema_support support;
	const char *note;
} dcfs_schema_prop;

typedef struct dcfs_schema_object {
	const dcfs_schema_prop *props;
	size_t n;
} dcfs_schema_object;

/* The top level of devcontainer.json. */
extern const dcfs_schema_object dcfs_schema_devcontainer;

/* The property `name` (case-sensitive) of `o`, or NULL. */
const dcfs_schema_prop *dcfs_schema_find(const dcfs_schema_object *o, const char *name);
/* The known name of `o` nearest to `name` (case-insensitive edit distance), or NULL when none is
 * near enough to be a likely misspelling. */
const char *dcfs_schema_nearest(const dcfs_schema_object *o, const char *name);
