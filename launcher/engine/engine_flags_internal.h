/* Private to launcher/engine: the table of `docker run` flags dcfs maps onto a create body
 * (engine_flags.c), read by engine_run_args.c. */
#pragma once

#include <stdbool.h>

#include "engine_spec_internal.h"

typedef struct spec_flag spec_flag;
typedef int (*spec_flag_fn)(spec_ctx *c, const spec_flag *f, const char *value);

enum spec_where { IN_BODY, IN_HOST };

struct spec_flag {
	const char *name;  /* without "--" */
	const char *alias; /* another long name ("net"); NULL */
	char short_name;   /* 'e'; 0: none */
	bool value;	   /* takes a value; else a boolean ("true" or "false" given) */
	spec_flag_fn handler;
	enum spec_where where; /* for the generic handlers: the object `field` is in */
	const char *field;
};

/* Ended by a row whose handler is NULL. */
extern const spec_flag spec_flags[];

/* Handlers of their own files (the table's `f` unused): -v/--volume HOST:CONTAINER[:OPTS],
 * NAME:CONTAINER[:OPTS] or CONTAINER (anonymous), --tmpfs PATH[:OPTS] (engine_mounts.c);
 * -p/--publish [IP:][HOST:]CONTAINER[/PROTO] (ports or equal ranges), --expose PORT[/PROTO] or
 * a range (engine_ports.c). */
int spec_volume_flag(spec_ctx *c, const spec_flag *f, const char *v);
int spec_tmpfs_flag(spec_ctx *c, const spec_flag *f, const char *v);
int spec_publish_flag(spec_ctx *c, const spec_flag *f, const char *v);
int spec_expose_flag(spec_ctx *c, const spec_flag *f, const char *v);
