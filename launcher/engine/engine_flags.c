/* The `docker run` flags dcfs passes to the engine, one row each: names, whether a value
 * follows, and the handler that puts it into the create body (most rows use a generic handler
 * with the field they fill; the rest have a handler of their own below). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "capability.h"
#include "cleanup.h"
#include "engine_flags_internal.h"

static cJSON *where(spec_ctx *c, const spec_flag *f)
{
	return f->where == IN_HOST ? c->host : c->body;
}

static int h_string(spec_ctx *c, const spec_flag *f, const char *v)
{
	if (!*v)
		return spec_flag_error(c, EINVAL, "empty value");
	return spec_put_string(where(c, f), f->field, v);
}

static int h_append(spec_ctx *c, const spec_flag *f, const char *v)
{
	if (!*v)
		return spec_flag_error(c, EINVAL, "empty value");
	return spec_append_string(where(c, f), f->field, v);
}

static int h_bool(spec_ctx *c, const spec_flag *f, const char *v)
{
	return spec_put(where(c, f), f->field, cJSON_CreateBool(!strcmp(v, "true")));
}

static int h_size(spec_ctx *c, const spec_flag *f, const char *v)
{
	int64_t n;
	if (!spec_parse_size(v, &n))
		return spec_flag_error(c, EINVAL, "bad size '%s' (expected bytes or a number with "
						  "k, m, g or t)", v);
	return spec_put_number(where(c, f), f->field, (double)n);
}

static int h_int(spec_ctx *c, const spec_flag *f, const char *v)
{
	int64_t n;
	if (!spec_parse_int(v, -1, INT32_MAX, &n))
		return spec_flag_error(c, EINVAL, "bad number '%s'", v);
	return spec_put_number(where(c, f), f->field, (double)n);
}

/* field holds the reason. */
static int h_refuse(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)v;
	return spec_flag_error(c, ENOTSUP, "%s", f->field);
}

static int h_nothing(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)c, (void)f, (void)v;
	return 0;
}

/* K=V into object `field` (--sysctl, --log-opt); --label also takes a bare K. */
static int h_key_value(spec_ctx *c, const spec_flag *f, const char *v)
{
	const char *eq = strchr(v, '=');
	if (eq == v || !*v || (!eq && strcmp(f->name, "label")))
		return spec_flag_error(c, EINVAL, "expected KEY=VALUE, not '%s'", v);
	_cleanup_free_ char *key = strndup(v, eq ? (size_t)(eq - v) : strlen(v));
	cJSON *obj = !strcmp(f->field, "LogConfig.Config")
			     ? spec_object(spec_object(c->host, "LogConfig"), "Config")
			     : spec_object(where(c, f), f->field);
	if (!key || !obj)
		return -ENOMEM;
	return spec_put_string(obj, key, eq ? eq + 1 : "");
}

static int h_name(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)f;
	if (!*v)
		return spec_flag_error(c, EINVAL, "empty value");
	free(c->name);
	c->name = strdup(v);
	return c->name ? 0 : -ENOMEM;
}

/* -e K=V; -e K takes K from dcfs's environment, as docker run does (nothing when unset). */
static int h_env(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)f;
	if (!*v || *v == '=')
		return spec_flag_error(c, EINVAL, "bad variable '%s'", v);
	if (strchr(v, '='))
		return spec_env_set(c->body, v);
	const char *val = getenv(v);
	_cleanup_free_ char *kv = NULL;
	if (!val)
		return 0;
	if (asprintf(&kv, "%s=%s", v, val) < 0)
		return -ENOMEM;
	return spec_env_set(c->body, kv);
}

/* The file, relative to the configuration's folder: "K=V" lines, "K" alone from the
 * environment, blank lines and "#" comments skipped. */
static int h_env_file(spec_ctx *c, const spec_flag *f, const char *v)
{
	_cleanup_free_ char *path = spec_config_path(c, v), *line = NULL;
	if (!path)
		return -ENOMEM;
	_cleanup_fclose_ FILE *in = fopen(path, "re");
	if (!in)
		return spec_flag_error(c, EINVAL, "cannot read '%s': %s", v, strerror(errno));
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, in)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		const char *s = line + strspn(line, " \t");
		int r = *s && *s != '#' ? h_env(c, f, s) : 0;
		if (r < 0)
			return r;
	}
	return 0;
}

static int h_cap(spec_ctx *c, const spec_flag *f, const char *v)
{
	if (dcfs_cap_number(v) == -1)
		return spec_flag_error(c, EINVAL, "unknown capability '%s'", v);
	return h_append(c, f, v);
}

/* --add-host NAME:IP (or NAME=IP) -> ExtraHosts "NAME:IP". */
static int h_add_host(spec_ctx *c, const spec_flag *f, const char *v)
{
	size_t n = strcspn(v, ":=");
	_cleanup_free_ char *line = NULL;
	if (!n || !v[n] || !v[n + 1])
		return spec_flag_error(c, EINVAL, "expected NAME:IP, not '%s'", v);
	if (asprintf(&line, "%.*s:%s", (int)n, v, v + n + 1) < 0)
		return -ENOMEM;
	return h_append(c, f, line);
}

/* HOST[:CONTAINER[:PERMISSIONS]]. */
static int h_device(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)f;
	_cleanup_free_ char *copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	char *p = copy, *host = strsep(&p, ":"), *cont = strsep(&p, ":"), *perms = p;
	if (cont && *cont != '/' && !p) /* HOST:PERMISSIONS */
		perms = cont, cont = NULL;
	if (host[0] != '/' || (cont && cont[0] != '/') ||
	    (perms && (!*perms || strspn(perms, "rwm") != strlen(perms))))
		return spec_flag_error(c, EINVAL, "expected HOST[:CONTAINER[:rwm]], not '%s'", v);
	cJSON *d = cJSON_CreateObject();
	if (!d || !cJSON_AddStringToObject(d, "PathOnHost", host) ||
	    !cJSON_AddStringToObject(d, "PathInContainer", cont ? cont : host) ||
	    !cJSON_AddStringToObject(d, "CgroupPermissions", perms ? perms : "rwm")) {
		cJSON_Delete(d);
		return -ENOMEM;
	}
	return spec_append(spec_array(c->host, "Devices"), d);
}

static int h_memory_swap(spec_ctx *c, const spec_flag *f, const char *v)
{
	return !strcmp(v, "-1") ? spec_put_number(c->host, f->field, -1) : h_size(c, f, v);
}

static int h_cpus(spec_ctx *c, const spec_flag *f, const char *v)
{
	char *end = NULL;
	double n = strtod(v, &end);
	if (!*v || *end || !(n > 0) || n > 1e6)
		return spec_flag_error(c, EINVAL, "bad number of CPUs '%s'", v);
	return spec_put_number(c->host, f->field, (double)(int64_t)(n * 1e9 + 0.5));
}

/* NAME=SOFT[:HARD]; a later one of the same name wins. */
static int h_ulimit(spec_ctx *c, const spec_flag *f, const char *v)
{
	const char *eq = strchr(v, '=');
	_cleanup_free_ char *name = eq ? strndup(v, (size_t)(eq - v)) : NULL;
	_cleanup_free_ char *soft = eq ? strndup(eq + 1, strcspn(eq + 1, ":")) : NULL;
	const char *colon = eq ? strchr(eq + 1, ':') : NULL;
	int64_t s, h;
	if (!name || !*name || !soft || !spec_parse_int(soft, -1, INT64_MAX, &s) ||
	    !spec_parse_int(colon ? colon + 1 : soft, -1, INT64_MAX, &h) || (h != -1 && s > h))
		return spec_flag_error(c, EINVAL, "expected NAME=SOFT[:HARD], not '%s'", v);
	cJSON *arr = spec_array(c->host, f->field), *u = cJSON_CreateObject();
	if (!arr || !u || !cJSON_AddStringToObject(u, "Name", name) ||
	    !cJSON_AddNumberToObject(u, "Soft", (double)s) ||
	    !cJSON_AddNumberToObject(u, "Hard", (double)h)) {
		cJSON_Delete(u);
		return -ENOMEM;
	}
	for (int i = cJSON_GetArraySize(arr) - 1; i >= 0; i--)
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, i),
								     "Name")) ?: "", name))
			cJSON_DeleteItemFromArray(arr, i);
	return spec_append(arr, u);
}

/* no, always, unless-stopped, on-failure[:N]. */
static int h_restart(spec_ctx *c, const spec_flag *f, const char *v)
{
	size_t n = strcspn(v, ":");
	int64_t max = 0;
	bool known = (n == 2 && !strncmp(v, "no", 2)) || (n == 6 && !strncmp(v, "always", 6)) ||
		     (n == 14 && !strncmp(v, "unless-stopped", 14)) ||
		     (n == 10 && !strncmp(v, "on-failure", 10));
	if (!known || (v[n] && (n != 10 || !spec_parse_int(v + n + 1, 0, INT32_MAX, &max))))
		return spec_flag_error(c, EINVAL, "expected no, always, unless-stopped or "
						  "on-failure[:N], not '%s'", v);
	_cleanup_free_ char *name = strndup(v, n);
	cJSON *p = cJSON_CreateObject();
	if (!name || !p || !cJSON_AddStringToObject(p, "Name", name) ||
	    !cJSON_AddNumberToObject(p, "MaximumRetryCount", (double)max)) {
		cJSON_Delete(p);
		return -ENOMEM;
	}
	return spec_put(c->host, f->field, p);
}

static int h_log_driver(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)f;
	if (!*v)
		return spec_flag_error(c, EINVAL, "empty value");
	return spec_put_string(spec_object(c->host, "LogConfig"), "Type", v);
}

static int h_cgroupns(spec_ctx *c, const spec_flag *f, const char *v)
{
	if (strcmp(v, "host") && strcmp(v, "private"))
		return spec_flag_error(c, EINVAL, "expected host or private, not '%s'", v);
	return h_string(c, f, v);
}

/* Only the host's own platform: dcfs runs no emulation. */
static int h_platform(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)f;
	struct utsname u;
	uname(&u);
	const char *arch = !strcmp(u.machine, "x86_64") ? "amd64"
			   : !strcmp(u.machine, "aarch64") ? "arm64"
							   : u.machine;
	char want[96];
	snprintf(want, sizeof(want), "linux/%s", arch);
	if (strcmp(v, want) && strcmp(v, arch) && strncmp(v, want, strlen(want)))
		return spec_flag_error(c, ENOTSUP, "only the host's platform (%s) can run here, "
						   "not '%s'", want, v);
	return 0;
}

static int h_network_alias(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)f;
	if (!*v)
		return spec_flag_error(c, EINVAL, "empty value");
	if (!c->aliases && !(c->aliases = cJSON_CreateArray()))
		return -ENOMEM;
	return spec_append(c->aliases, cJSON_CreateString(v));
}

static int h_security_opt(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)f;
	_cleanup_free_ char *label = NULL;
	if (asprintf(&label, "%s: runArgs: '%s'", c->s->config_name, c->flag) < 0)
		return -ENOMEM;
	return spec_security_opt(c, v, label);
}

static int h_mount(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)f;
	_cleanup_free_ char *label = NULL;
	if (asprintf(&label, "%s: runArgs: '%s'", c->s->config_name, c->flag) < 0)
		return -ENOMEM;
	cJSON *m = cJSON_CreateString(v);
	int r = m ? spec_mount_add(c, m, label) : -ENOMEM;
	cJSON_Delete(m);
	return r;
}

#define S(n, a, sh, fn, w, fld) {n, a, sh, true, fn, w, fld}
#define B(n, a, sh, fn, w, fld) {n, a, sh, false, fn, w, fld}

const spec_flag spec_flags[] = {
	S("name", NULL, 0, h_name, IN_BODY, NULL),
	S("hostname", NULL, 'h', h_string, IN_BODY, "Hostname"),
	S("user", NULL, 'u', h_string, IN_BODY, "User"),
	S("workdir", NULL, 'w', h_string, IN_BODY, "WorkingDir"),
	S("env", NULL, 'e', h_env, IN_BODY, NULL),
	S("env-file", NULL, 0, h_env_file, IN_BODY, NULL),
	S("label", NULL, 'l', h_key_value, IN_BODY, "Labels"),
	S("network", "net", 0, h_string, IN_HOST, "NetworkMode"),
	S("network-alias", "net-alias", 0, h_network_alias, IN_HOST, NULL),
	S("add-host", NULL, 0, h_add_host, IN_HOST, "ExtraHosts"),
	S("dns", NULL, 0, h_append, IN_HOST, "Dns"),
	S("dns-search", NULL, 0, h_append, IN_HOST, "DnsSearch"),
	S("dns-option", "dns-opt", 0, h_append, IN_HOST, "DnsOptions"),
	S("cap-add", NULL, 0, h_cap, IN_HOST, "CapAdd"),
	S("cap-drop", NULL, 0, h_cap, IN_HOST, "CapDrop"),
	S("security-opt", NULL, 0, h_security_opt, IN_HOST, NULL),
	B("privileged", NULL, 0, h_bool, IN_HOST, "Privileged"),
	B("init", NULL, 0, h_bool, IN_HOST, "Init"),
	S("device", NULL, 0, h_device, IN_HOST, NULL),
	S("device-cgroup-rule", NULL, 0, h_append, IN_HOST, "DeviceCgroupRules"),
	S("gpus", NULL, 0, h_refuse, IN_HOST, "GPUs are not supported here"),
	S("memory", NULL, 'm', h_size, IN_HOST, "Memory"),
	S("memory-swap", NULL, 0, h_memory_swap, IN_HOST, "MemorySwap"),
	S("memory-reservation", NULL, 0, h_size, IN_HOST, "MemoryReservation"),
	S("cpus", NULL, 0, h_cpus, IN_HOST, "NanoCpus"),
	S("cpu-shares", NULL, 'c', h_int, IN_HOST, "CpuShares"),
	S("cpuset-cpus", NULL, 0, h_string, IN_HOST, "CpusetCpus"),
	S("pids-limit", NULL, 0, h_int, IN_HOST, "PidsLimit"),
	S("shm-size", NULL, 0, h_size, IN_HOST, "ShmSize"),
	S("ulimit", NULL, 0, h_ulimit, IN_HOST, "Ulimits"),
	S("sysctl", NULL, 0, h_key_value, IN_HOST, "Sysctls"),
	S("tmpfs", NULL, 0, spec_tmpfs_flag, IN_HOST, NULL),
	S("volume", NULL, 'v', spec_volume_flag, IN_HOST, NULL),
	S("mount", NULL, 0, h_mount, IN_HOST, NULL),
	S("publish", NULL, 'p', spec_publish_flag, IN_HOST, NULL),
	S("expose", NULL, 0, spec_expose_flag, IN_BODY, NULL),
	B("publish-all", NULL, 'P', h_bool, IN_HOST, "PublishAllPorts"),
	S("ipc", NULL, 0, h_string, IN_HOST, "IpcMode"),
	S("pid", NULL, 0, h_string, IN_HOST, "PidMode"),
	S("uts", NULL, 0, h_string, IN_HOST, "UTSMode"),
	S("userns", NULL, 0, h_string, IN_HOST, "UsernsMode"),
	S("cgroupns", NULL, 0, h_cgroupns, IN_HOST, "CgroupnsMode"),
	S("group-add", NULL, 0, h_append, IN_HOST, "GroupAdd"),
	S("runtime", NULL, 0, h_string, IN_HOST, "Runtime"),
	S("restart", NULL, 0, h_restart, IN_HOST, "RestartPolicy"),
	S("stop-signal", NULL, 0, h_string, IN_BODY, "StopSignal"),
	S("stop-timeout", NULL, 0, h_int, IN_BODY, "StopTimeout"),
	/* the keep-alive's /bin/sh comes after runArgs on the reference CLI's command line */
	S("entrypoint", NULL, 0, h_nothing, IN_BODY, NULL),
	B("read-only", NULL, 0, h_bool, IN_HOST, "ReadonlyRootfs"),
	S("log-driver", NULL, 0, h_log_driver, IN_HOST, NULL),
	S("log-opt", NULL, 0, h_key_value, IN_HOST, "LogConfig.Config"),
	S("platform", NULL, 0, h_platform, IN_BODY, NULL),
	B("rm", NULL, 0, h_refuse, IN_BODY, "a dev container must stay when it stops"),
	B("detach", NULL, 'd', h_nothing, IN_BODY, NULL),
	B("interactive", NULL, 'i', h_nothing, IN_BODY, NULL),
	B("tty", NULL, 't', h_nothing, IN_BODY, NULL),
	{0},
};
