/* A Compose configuration read (compose.h): its files, service and runServices, the project
 * name as the reference CLI makes it, and the compose tool for the engine. */
#include <ctype.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "compose.h"
#include "compose_internal.h"
#include "jsonc.h"
#include "subprocess.h"

/* Is `name` an executable on PATH? */
static bool on_path(const char *name)
{
	const char *path = getenv("PATH") ?: "/usr/bin:/bin";
	_cleanup_free_ char *copy = strdup(path);
	char *save = NULL;
	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
		char full[PATH_MAX];
		snprintf(full, sizeof(full), "%s/%s", d, name);
		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

/* `docker compose version` answers: the v2 plugin is there. */
static bool docker_compose_plugin(void)
{
	if (!on_path("docker"))
		return false;
	char *argv[] = {"docker", "compose", "version", NULL};
	_cleanup_close_ int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	return dcfs_spawn_wait(argv, null) == 0;
}

static int set_tool(dcfs_compose *c, const char *kind, dcfs_error *e)
{
	const char *a = NULL, *b = NULL;
	bool podman = !strcmp(kind, "podman");
	if (podman && on_path("podman-compose"))
		a = "podman-compose";
	else if (!podman && docker_compose_plugin())
		a = "docker", b = "compose";
	else if (on_path("docker-compose"))
		a = "docker-compose";
	else if (podman && docker_compose_plugin())
		a = "docker", b = "compose";
	if (!a)
		return dcfs_error_set(e, ENOENT,
				      "no compose tool found for %s: install one (Debian packages "
				      "podman-compose or docker-compose)", kind);
	c->tool = calloc(3, sizeof(char *));
	if (!c->tool || !(c->tool[0] = strdup(a)) || (b && !(c->tool[1] = strdup(b))))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

/* The reference CLI's toProjectName: lower case, only [-_a-z0-9]. */
char *dcfs_compose_project_name(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;
	for (const char *p = text; out && *p; p++) {
		char ch = (char)tolower((unsigned char)*p);
		if (isalnum((unsigned char)ch) || ch == '-' || ch == '_')
			*o++ = ch;
	}
	if (out)
		*o = '\0';
	return out;
}

/* A top-level `KEY: value` of a YAML file (quotes dropped); NULL when it has none. */
char *dcfs_compose_top_value(const char *file, const char *key)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	char line[1024];
	size_t n = strlen(key);
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, n) || line[n] != ':')
			continue;
		char *v = line + n + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, "#\r\n")] = '\0';
		size_t len = strlen(v);
		while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			v[--len] = '\0';
		if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0])
			v[len - 1] = '\0', v++;
		return *v ? strdup(v) : NULL;
	}
	return NULL;
}

static int project(dcfs_compose *c, const char *folder, dcfs_error *e)
{
	const char *env = getenv("COMPOSE_PROJECT_NAME");
	_cleanup_free_ char *given = NULL;
	const cJSON *first = cJSON_GetArrayItem(c->files, 0);
	if (env && *env)
		given = strdup(env);
	else if (first)
		given = dcfs_compose_top_value(first->valuestring, "name");
	if (!given) {
		/* the reference CLI: the files in FOLDER/.devcontainer give
		 * "<folder's name>_devcontainer", elsewhere the name of their folder */
		_cleanup_free_ char *dir = strdup(c->workdir), *own = NULL, *top = strdup(folder);
		if (!dir || !top || asprintf(&own, "%s/.devcontainer", folder) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		int r = !strcmp(own, c->workdir) ? asprintf(&given, "%s_devcontainer", basename(top))
						  : (given = strdup(basename(dir))) ? 0 : -1;
		if (r < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	c->project = dcfs_compose_project_name(given);
	if (!c->project)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (!*c->project)
		return dcfs_error_set(e, EINVAL, "compose project name '%s' has no letter or digit",
				      given);
	return 0;
}

static int files(dcfs_compose *c, const cJSON *value, const char *config_file, dcfs_error *e)
{
	_cleanup_free_ char *copy = strdup(config_file);
	const char *dir = copy ? dirname(copy) : NULL;
	if (!dir || !(c->files = cJSON_CreateArray()))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	const cJSON *list = value, *it;
	cJSON *one = NULL;
	if (cJSON_IsString(value))
		list = one = cJSON_CreateArray(), cJSON_AddItemToArray(one, cJSON_CreateString(value->valuestring));
	cJSON_ArrayForEach(it, list)
	{
		if (!cJSON_IsString(it) || !*it->valuestring) {
			cJSON_Delete(one);
			return dcfs_error_set(e, EINVAL, "%s: dockerComposeFile: a file name must be a "
					      "non-empty string", config_file);
		}
		_cleanup_free_ char *path = NULL, *real = NULL;
		if ((it->valuestring[0] == '/' ? (path = strdup(it->valuestring)) == NULL
					       : asprintf(&path, "%s/%s", dir, it->valuestring) < 0)) {
			cJSON_Delete(one);
			return dcfs_error_set(e, ENOMEM, "out of memory");
		}
		if (!(real = realpath(path, NULL))) {
			int err = errno;
			cJSON_Delete(one);
			return dcfs_error_set(e, err, "%s: dockerComposeFile: '%s': %s", config_file,
					      path, strerror(err));
		}
		cJSON_AddItemToArray(c->files, cJSON_CreateString(real));
	}
	cJSON_Delete(one);
	if (!cJSON_GetArraySize(c->files))
		return dcfs_error_set(e, EINVAL, "%s: dockerComposeFile names no file", config_file);
	_cleanup_free_ char *first = strdup(cJSON_GetArrayItem(c->files, 0)->valuestring);
	if (!first || !(c->workdir = strdup(dirname(first))))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

/* Does any file name `service` as a key ("NAME:" after a space, a tab, '{', ',' or a quote, or
 * at a line's start; quoted or not)? A cheap look at YAML, so that an unknown service is named
 * before the compose tool's less clear error. */
static bool defines(const cJSON *files, const char *service)
{
	const cJSON *f;
	size_t n = strlen(service);
	cJSON_ArrayForEach(f, files)
	{
		_cleanup_fclose_ FILE *in = fopen(f->valuestring, "re");
		char line[4096];
		while (in && fgets(line, sizeof(line), in))
			for (char *p = strstr(line, service); p; p = strstr(p + 1, service)) {
				char before = p == line ? ' ' : p[-1];
				char after = p[n];
				if ((after == '"' || after == '\'') && p[n + 1] == ':')
					after = ':';
				if (after == ':' && strchr(" \t{,\"'", before))
					return true;
			}
	}
	return false;
}

int dcfs_compose_open(const cJSON *config, const char *config_file, const char *folder,
		      const dcfs_engine *en, dcfs_compose *out, dcfs_error *e)
{
	*out = (dcfs_compose){.engine = en};
	const cJSON *service = cJSON_GetObjectItemCaseSensitive(config, "service");
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(config, "runServices");
	int r = files(out, cJSON_GetObjectItemCaseSensitive(config, "dockerComposeFile"),
		      config_file, e);
	if (r >= 0 && (!cJSON_IsString(service) || !*service->valuestring))
		r = dcfs_error_set(e, EINVAL, "%s: a Docker Compose configuration needs \"service\" "
				   "(the dev container's service)", config_file);
	if (r >= 0 && !(out->service = strdup(service->valuestring)))
		r = dcfs_error_set(e, ENOMEM, "out of memory");
	if (r >= 0 && !defines(out->files, out->service))
		r = dcfs_error_set(e, ENOENT, "%s: service '%s' is in none of its compose files",
				   config_file, out->service);
	if (r >= 0 && run) {
		out->run_services = cJSON_Duplicate(run, 1);
		bool has = false;
		const cJSON *it;
		cJSON_ArrayForEach(it, out->run_services)
			has |= cJSON_IsString(it) && !strcmp(it->valuestring, out->service);
		if (!has)
			cJSON_AddItemToArray(out->run_services, cJSON_CreateString(out->service));
	}
	r = r ?: project(out, folder, e);
	r = r ?: set_tool(out, en->kind, e);
	if (r < 0)
		dcfs_compose_free(out);
	return r;
}
