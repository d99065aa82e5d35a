/* Reading a Dockerfile configuration's build properties (see build_spec.h), as the reference
 * CLI reads them: the Dockerfile and the context come from the legacy top-level `dockerFile`
 * and `context` when `dockerFile` is there, else from `build.dockerfile` and `build.context`;
 * both are resolved against the folder of devcontainer.json, and without a context the
 * Dockerfile's own folder is the context (getDockerfilePath, getDockerContextPath). `args`,
 * `target`, `options` and `cacheFrom` are always read from `build`. */
#include "build_spec.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"

static const cJSON *member(const cJSON *obj, const char *name)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
}

/* `rel` resolved against the folder of the configuration file, lexically (path.posix.resolve).
 * malloc'd, NULL on ENOMEM. */
static char *resolve(const dcfs_devcontainer *d, const char *rel)
{
	_cleanup_free_ char *joined = NULL;
	const char *slash = strrchr(d->config_file, '/');
	int dir_len = slash ? (int)(slash - d->config_file) : 0;
	if (rel[0] == '/')
		joined = strdup(rel);
	else if (asprintf(&joined, "%.*s/%s", dir_len, d->config_file, rel) < 0)
		joined = NULL;
	return joined ? dcfs_host_path_absolute(joined) : NULL;
}

static int expect_string(const dcfs_devcontainer *d, const cJSON *j, const char *prop,
			 const char **out, dcfs_error *e)
{
	*out = NULL;
	if (!j || cJSON_IsNull(j))
		return 0;
	if (!cJSON_IsString(j))
		return dcfs_error_set(e, EINVAL, "%s: %s: expected a string", d->config_file, prop);
	*out = j->valuestring;
	return 0;
}

static int push(char ***arr, size_t *n, char *s, dcfs_error *e)
{
	_cleanup_free_ char *owned = s;
	char **bigger = owned ? realloc(*arr, (*n + 1) * sizeof(**arr)) : NULL;
	if (!bigger)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	*arr = bigger;
	(*arr)[(*n)++] = TAKE_PTR(owned);
	return 0;
}

/* A string or an array of strings (cacheFrom), or an array of strings (options). */
static int read_strings(const dcfs_devcontainer *d, const cJSON *j, const char *prop,
			bool one_allowed, char ***arr, size_t *n, dcfs_error *e)
{
	if (!j || cJSON_IsNull(j))
		return 0;
	if (one_allowed && cJSON_IsString(j))
		return push(arr, n, strdup(j->valuestring), e);
	if (!cJSON_IsArray(j))
		return dcfs_error_set(e, EINVAL, "%s: %s: expected %s", d->config_file, prop,
				      one_allowed ? "a string or an array of strings"
						  : "an array of strings");
	const cJSON *it;
	cJSON_ArrayForEach(it, j) {
		if (!cJSON_IsString(it))
			return dcfs_error_set(e, EINVAL, "%s: %s: expected an array of strings",
					      d->config_file, prop);
		int r = push(arr, n, strdup(it->valuestring), e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* build.args: "NAME=VALUE" in the configuration's order. */
static int read_args(const dcfs_devcontainer *d, const cJSON *args, dcfs_build_spec *b,
		     dcfs_error *e)
{
	if (!args || cJSON_IsNull(args))
		return 0;
	if (!cJSON_IsObject(args))
		return dcfs_error_set(e, EINVAL, "%s: build.args: expected an object",
				      d->config_file);
	const cJSON *it;
	cJSON_ArrayForEach(it, args) {
		if (!cJSON_IsString(it))
			return dcfs_error_set(e, EINVAL, "%s: build.args.%s: expected a string",
					      d->config_file, it->string);
		char *kv = NULL;
		if (asprintf(&kv, "%s=%s", it->string, it->valuestring) < 0)
			kv = NULL;
		int r = push(&b->args, &b->n_args, kv, e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The Dockerfile (a regular file, symlinks followed as the builder follows them) and the
 * context (a folder). */
static int check_paths(const dcfs_devcontainer *d, const dcfs_build_spec *b, bool legacy,
		       dcfs_error *e)
{
	struct stat st;
	const char *prop = legacy ? "dockerFile" : "build.dockerfile";
	if (stat(b->dockerfile, &st) < 0)
		return dcfs_error_set(e, errno, "%s: %s: %s: %m", d->config_file, prop, b->dockerfile);
	if (!S_ISREG(st.st_mode))
		return dcfs_error_set(e, S_ISDIR(st.st_mode) ? EISDIR : EINVAL, "%s: %s: %s: %s",
				      d->config_file, prop, b->dockerfile,
				      S_ISDIR(st.st_mode) ? "Is a directory" : "not a regular file");
	prop = legacy ? "context" : "build.context";
	if (stat(b->context, &st) < 0)
		return dcfs_error_set(e, errno, "%s: %s: %s: %m", d->config_file, prop, b->context);
	if (!S_ISDIR(st.st_mode))
		return dcfs_error_set(e, ENOTDIR, "%s: %s: %s: Not a directory", d->config_file,
				      prop, b->context);
	return 0;
}

/* The Dockerfile and the context, absolute. */
static int read_paths(const dcfs_devcontainer *d, bool legacy, const char *dockerfile,
		      dcfs_build_spec *b, dcfs_error *e)
{
	const cJSON *build = member(d->config, "build");
	const char *context;
	int r = expect_string(d, member(legacy ? d->config : build, "context"),
			      legacy ? "context" : "build.context", &context, e);
	if (r < 0)
		return r;
	b->dockerfile = resolve(d, dockerfile);
	if (!b->dockerfile)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (context && *context) {
		b->context = resolve(d, context);
	} else {
		const char *slash = strrchr(b->dockerfile, '/');
		b->context = slash == b->dockerfile ? strdup("/")
						    : strndup(b->dockerfile, (size_t)(slash - b->dockerfile));
	}
	if (!b->context)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return check_paths(d, b, legacy, e);
}

static int read_spec(const dcfs_devcontainer *d, dcfs_build_spec *b, dcfs_error *e)
{
	const cJSON *build = member(d->config, "build");
	bool legacy = member(d->config, "dockerFile") != NULL;
	const char *dockerfile, *target;
	int r = expect_string(d, member(legacy ? d->config : build, legacy ? "dockerFile" : "dockerfile"),
			      legacy ? "dockerFile" : "build.dockerfile", &dockerfile, e);
	if (r < 0 || (r = expect_string(d, member(build, "target"), "build.target", &target, e)) < 0)
		return r;
	if (!dockerfile)
		return dcfs_error_set(e, EINVAL, "%s: %s: expected a string", d->config_file,
				      legacy ? "dockerFile" : "build.dockerfile");
	if ((r = read_paths(d, legacy, dockerfile, b, e)) < 0 ||
	    (r = read_args(d, member(build, "args"), b, e)) < 0 ||
	    (r = read_strings(d, member(build, "options"), "build.options", false, &b->options,
			      &b->n_options, e)) < 0 ||
	    (r = read_strings(d, member(build, "cacheFrom"), "build.cacheFrom", true,
			      &b->cache_from, &b->n_cache_from, e)) < 0)
		return r;
	if (target && *target && !(b->target = strdup(target)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 1;
}

int dcfs_build_spec_read(const dcfs_devcontainer *d, dcfs_build_spec *out, dcfs_error *e)
{
	memset(out, 0, sizeof(*out));
	const cJSON *build = member(d->config, "build");
	if (!member(d->config, "dockerFile") && !member(build, "dockerfile"))
		return 0;
	int r = read_spec(d, out, e);
	if (r < 0)
		dcfs_build_spec_free(out);
	return r;
}

static void free_strings(char **arr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(arr[i]);
	free(arr);
}

void dcfs_build_spec_free(dcfs_build_spec *b)
{
	free(b->dockerfile);
	free(b->context);
	free(b->target);
	free_strings(b->args, b->n_args);
	free_strings(b->options, b->n_options);
	free_strings(b->cache_from, b->n_cache_from);
	memset(b, 0, sizeof(*b));
}
