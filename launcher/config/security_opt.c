/* Parsing securityOpt values (see security_opt.h): no-new-privileges and seccomp, the two that
 * dcfs applies; Docker's others (apparmor, label, systempaths, ...) are refused by name. */
#include "security_opt.h"

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* "KEY=VALUE", "KEY:VALUE" or "KEY" split; *value is NULL for a bare key. */
static char *split(const char *opt, const char **value)
{
	size_t n = strcspn(opt, "=:");
	*value = opt[n] ? opt + n + 1 : NULL;
	return strndup(opt, n);
}

static int unsupported(const char *opt, dcfs_error *e)
{
	return dcfs_error_set(e, ENOTSUP, "unsupported security option '%s'", opt);
}

static int seccomp(dcfs_security *s, const char *opt, const char *value, dcfs_error *e)
{
	if (!value || !*value)
		return unsupported(opt, e);
	free(s->seccomp_profile);
	s->seccomp_profile = NULL;
	s->seccomp_unconfined = !strcmp(value, "unconfined");
	if (!s->seccomp_unconfined && !(s->seccomp_profile = strdup(value)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

int dcfs_security_opt_apply(dcfs_security *s, const char *opt, dcfs_error *e)
{
	const char *value;
	_cleanup_free_ char *key = split(opt, &value);
	if (!key)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (!strcmp(key, "seccomp"))
		return seccomp(s, opt, value, e);
	if (strcmp(key, "no-new-privileges"))
		return unsupported(opt, e);
	if (!value || !strcmp(value, "true"))
		s->no_new_privileges = true;
	else if (!strcmp(value, "false"))
		s->no_new_privileges = false;
	else
		return unsupported(opt, e);
	return 0;
}

int dcfs_security_opts_apply(dcfs_security *s, const cJSON *opts, dcfs_error *e)
{
	if (opts && !cJSON_IsArray(opts))
		return dcfs_error_set(e, EINVAL, "expected an array of strings");
	const cJSON *it;
	cJSON_ArrayForEach(it, opts)
	{
		const char *opt = cJSON_GetStringValue(it);
		if (!opt)
			return dcfs_error_set(e, EINVAL, "expected an array of strings");
		int r = dcfs_security_opt_apply(s, opt, e);
		if (r < 0)
			return r;
	}
	return 0;
}

void dcfs_security_free(dcfs_security *s)
{
	free(s->seccomp_profile);
	*s = (dcfs_security){0};
}
