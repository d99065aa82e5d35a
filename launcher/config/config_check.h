/* Checking devcontainer.json as written against the schema (launcher/config/config_schema.c), with the
 * place of every problem: wrong types and invalid values are errors, unknown (misspelled)
 * property names and properties dcfs does not act on are warnings, and what `up` cannot run
 * is an error for `up` and a warning otherwise. Messages are "FILE:LINE:COL: ...". */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "jsonc.h"

/* Warnings, each one line ("FILE:LINE:COL: ..."), in the order found. */
typedef struct dcfs_diags {
	char **v;
	size_t n;
} dcfs_diags;

int dcfs_diags_add(dcfs_diags *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dcfs_diags_free(dcfs_diags *d);

typedef struct dcfs_config_check_opts {
	const char *name;		  /* the file, as messages name it */
	const dcfs_jsonc_positions *pos; /* where the items of the configuration are */
	bool container;			  /* `up`: refuse what it cannot run */
} dcfs_config_check_opts;

/* Check `config` (the parsed file, before normalization and substitution). The first error
 * fails with -EINVAL; warnings are appended to `warnings`. */
int dcfs_config_check(const cJSON *config, const dcfs_config_check_opts *o, dcfs_diags *warnings,
		      dcfs_error *e);

/* "4gb", "512mb", "1.5tb", "1024" (bytes; units are powers of 1024, any case): false when it
 * does not parse. */
bool dcfs_config_size(const char *s, double *bytes);

/* What hostRequirements are compared with. */
typedef struct dcfs_host_facts {
	long cpus;	     /* online */
	double memory;	     /* bytes, MemTotal */
	double storage_free; /* bytes free (for unprivileged users) on the store's filesystem */
	const char *store_path;
} dcfs_host_facts;

/* This machine, with the store at `store_path` (which may not exist yet): -errno on failure. */
int dcfs_host_facts_read(const char *store_path, dcfs_host_facts *out);

/* A warning in `w` for each of hostRequirements' cpus, memory and storage (`req`, as written;
 * its places in o->pos) that `host` does not meet. -ENOMEM only. */
int dcfs_host_requirements_check(const cJSON *req, const dcfs_host_facts *host,
				 const dcfs_config_check_opts *o, dcfs_diags *w);
