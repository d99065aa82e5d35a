/* Security options of the create body (HostConfig.SecurityOpt), from securityOpt and
 * --security-opt: passed on as written, except a seccomp profile given by path ("seccomp=FILE"
 * or "seccomp:FILE", relative to the configuration's folder): dockerd takes the profile's JSON
 * itself, as the docker CLI sends it; podman's compatible API opens the path it is given (on
 * this machine), so podman gets the absolute path of a profile checked here to be JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "engine_spec_internal.h"
#include "jsonc.h"

char *spec_config_path(const spec_ctx *c, const char *path)
{
	const char *slash = strrchr(c->s->config_name, '/');
	char *out = NULL;
	if (path[0] == '/' || !slash)
		return strdup(path);
	if (asprintf(&out, "%.*s/%s", (int)(slash - c->s->config_name), c->s->config_name, path) < 0)
		return NULL;
	return out;
}

/* "seccomp=" + the profile's text, checked to be JSON. */
static int seccomp_inline(spec_ctx *c, const char *file, const char *label, char **out)
{
	_cleanup_free_ char *path = spec_config_path(c, file), *text = NULL;
	_cleanup_fclose_ FILE *in = path ? fopen(path, "re") : NULL;
	size_t len = 0;
	if (!path)
		return -ENOMEM;
	if (!in)
		return dcfs_error_set(c->e, EINVAL, "%s: cannot read seccomp profile '%s': %s", label,
				      file, strerror(errno));
	_cleanup_fclose_ FILE *mem = open_memstream(&text, &len);
	char buf[4096];
	size_t n;
	while (mem && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, mem) != n)
			return -ENOMEM;
	if (!mem || fclose(TAKE_PTR(mem)))
		return -ENOMEM;
	_cleanup_json_ cJSON *profile = cJSON_ParseWithLength(text, len);
	if (!cJSON_IsObject(profile))
		return dcfs_error_set(c->e, EINVAL, "%s: seccomp profile '%s' is not a JSON object",
				      label, file);
	bool by_path = c->s->kind && !strcmp(c->s->kind, "podman");
	return asprintf(out, "seccomp=%s", by_path ? path : text) < 0 ? -ENOMEM : 0;
}

int spec_security_opt(spec_ctx *c, const char *opt, const char *label)
{
	bool seccomp = !strncmp(opt, "seccomp", 7) && (opt[7] == '=' || opt[7] == ':');
	if (!seccomp || !strcmp(opt + 8, "unconfined"))
		return spec_append_string(c->host, "SecurityOpt", opt);
	_cleanup_free_ char *inline_opt = NULL;
	int r = seccomp_inline(c, opt + 8, label, &inline_opt);
	return r < 0 ? r : spec_append_string(c->host, "SecurityOpt", inline_opt);
}
