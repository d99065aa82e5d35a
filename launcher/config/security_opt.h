/* `securityOpt` (devcontainer.json) and `--security-opt` (runArgs): one parser for both, so
 * that they accept and refuse the same values. Docker's spellings: KEY=VALUE or KEY:VALUE. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "error.h"

typedef struct dcfs_security {
	bool no_new_privileges; /* no-new-privileges[=true|false] */
	bool seccomp_unconfined; /* seccomp=unconfined */
	char *seccomp_profile;	 /* seccomp=PATH (a Docker-format profile); NULL: the default */
} dcfs_security;

/* Apply one option to `s`; a later option overrides an earlier one. Anything else fails with
 * -ENOTSUP and "unsupported security option 'OPT'"; a seccomp profile path that cannot be read
 * is the caller's to find (dcfs_seccomp_load). */
int dcfs_security_opt_apply(dcfs_security *s, const char *opt, dcfs_error *e);

/* Apply every option of `opts` (an array of strings; NULL: none), in order. */
int dcfs_security_opts_apply(dcfs_security *s, const cJSON *opts, dcfs_error *e);

void dcfs_security_free(dcfs_security *s);
