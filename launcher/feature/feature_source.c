/* A `features` key parsed into where the feature comes from (see feature.h): a local folder
 * ("./x", "../x", inside the .devcontainer folder), a tarball URL (https, or http to a loopback
 * host), a legacy short name mapped as the reference CLI maps it, or an OCI reference. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "feature.h"
#include "ref.h"
#include "registry_url.h"

#define LEGACY_REGISTRY "ghcr.io/devcontainers/features"

/* The v1 short names the reference CLI maps to ghcr.io/devcontainers/features/NAME:1
 * (getBackwardCompatibleFeatureId), and the two it renames. */
static const char *const legacy_same[] = {
	"aws-cli",    "azure-cli", "desktop-lite", "docker-in-docker",	    "docker-from-docker",
	"dotnet",     "git",	   "git-lfs",	   "github-cli",	    "java",
	"kubectl-helm-minikube",   "node",	   "powershell",	    "python",
	"ruby",	      "rust",	   "sshd",	   "terraform",
};
static const char *const legacy_renamed[][2] = {{"golang", "go"}, {"common", "common-utils"}};
/* Short names that became options of another feature: the reference CLI falls back to the v1
 * release for them, which dcfs does not fetch. */
static const char *const legacy_merged[][2] = {
	{"gradle", "java"}, {"maven", "java"}, {"jupyterlab", "python"}};

static int set_source(dcfs_feature_source *out, dcfs_feature_kind kind, const char *key,
		      const char *location, const char *resource, dcfs_error *e)
{
	*out = (dcfs_feature_source){.kind = kind};
	out->written = strdup(key);
	out->location = strdup(location);
	out->resource = strdup(resource);
	if (!out->written || !out->location || !out->resource) {
		dcfs_feature_source_free(out);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	return 0;
}

/* ---- OCI references and legacy short names ------------------------------------------------ */

static int parse_oci(const char *key, const char *text, dcfs_feature_source *out, dcfs_error *e)
{
	dcfs_ref ref = {0};
	int r = dcfs_ref_parse(text, &ref, e);
	if (r < 0) {
		dcfs_ref_free(&ref);
		return dcfs_error_wrap(e, "feature \"%s\"", key);
	}
	_cleanup_free_ char *resource = NULL, *location = NULL;
	if (!ref.registry)
		r = dcfs_error_set(e, EINVAL, "feature \"%s\": an OCI reference must name its "
				   "registry (\"ghcr.io/OWNER/REPO/FEATURE:VERSION\")", key);
	else if (asprintf(&resource, "%s/%s", ref.registry, ref.repository) < 0 ||
		 asprintf(&location, "%s%s%s", resource, ref.digest ? "@" : ":",
			  ref.digest ? ref.digest : ref.tag) < 0)
		r = dcfs_error_set(e, ENOMEM, "out of memory");
	else
		r = set_source(out, DCFS_FEATURE_OCI, key, location, resource, e);
	dcfs_ref_free(&ref);
	return r;
}

static int parse_legacy(const char *key, dcfs_feature_source *out, dcfs_error *e)
{
	const char *name = NULL;
	for (size_t i = 0; i < ELEMENTSOF(legacy_same) && !name; i++)
		if (!strcmp(key, legacy_same[i]))
			name = legacy_same[i];
	for (size_t i = 0; i < ELEMENTSOF(legacy_renamed) && !name; i++)
		if (!strcmp(key, legacy_renamed[i][0]))
			name = legacy_renamed[i][1];
	for (size_t i = 0; i < ELEMENTSOF(legacy_merged); i++)
		if (!strcmp(key, legacy_merged[i][0]))
			return dcfs_error_set(e, EINVAL, "feature \"%s\": this legacy feature is now "
					      "part of \"" LEGACY_REGISTRY "/%s\" (see its options)",
					      key, legacy_merged[i][1]);
	if (!name)
		return dcfs_error_set(e, EINVAL, "feature \"%s\": not a known legacy feature name; "
				      "write an OCI reference (\"" LEGACY_REGISTRY "/NAME:1\"), "
				      "\"./folder\" or an https:// URL", key);
	_cleanup_free_ char *ref = NULL;
	if (asprintf(&ref, LEGACY_REGISTRY "/%s:1", name) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return parse_oci(key, ref, out, e);
}

/* ---- tarball URLs ---------------------------------------------------------------------------- */

/* The host of "http://[user@]host[:port][/...]" is loopback (registry_url.h's rule). */
static bool loopback_host(const char *authority, size_t n)
{
	const char *at = memchr(authority, '@', n);
	if (at) {
		n -= (size_t)(at + 1 - authority);
		authority = at + 1;
	}
	_cleanup_free_ char *host = strndup(authority, n);
	return host && registry_loopback(host);
}

static int parse_tarball(const char *key, dcfs_feature_source *out, dcfs_error *e)
{
	bool https = !strncasecmp(key, "https://", 8);
	const char *authority = key + (https ? 8 : 7);
	size_t n = strcspn(authority, "/?#");
	if (n == 0)
		return dcfs_error_set(e, EINVAL, "feature \"%s\": the URL names no host", key);
	if (!https && !loopback_host(authority, n))
		return dcfs_error_set(e, EINVAL, "feature \"%s\": plain http:// is only allowed to a "
				      "loopback host (localhost, 127.0.0.0/8, [::1]); use https://",
				      key);
	return set_source(out, DCFS_FEATURE_TARBALL, key, key, key, e);
}

/* ---- local folders --------------------------------------------------------------------------- */

/* The .devcontainer folder local features must stay in: the nearest ancestor of `dir` (itself
 * included) named ".devcontainer", else `dir` (a .devcontainer.json beside the workspace). */
static const char *devcontainer_root(char *dir)
{
	for (char *end = dir + strlen(dir); end > dir;) {
		char *slash = end;
		while (slash > dir && slash[-1] != '/')
			slash--;
		if ((size_t)(end - slash) == strlen(".devcontainer") &&
		    !strncmp(slash, ".devcontainer", (size_t)(end - slash))) {
			*end = '\0';
			return dir;
		}
		end = slash > dir ? slash - 1 : dir;
	}
	return dir;
}

static int parse_local(const char *key, const char *config_dir, dcfs_feature_source *out,
		       dcfs_error *e)
{
	if (!config_dir)
		return dcfs_error_set(e, EINVAL, "feature \"%s\": a local feature is only allowed "
				      "in devcontainer.json's features", key);
	_cleanup_free_ char *dir = realpath(config_dir, NULL), *joined = NULL, *folder = NULL;
	if (!dir)
		return dcfs_error_set(e, errno, "feature \"%s\": %s: %s", key, config_dir,
				      strerror(errno));
	if (asprintf(&joined, "%s/%s", dir, key) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	folder = realpath(joined, NULL);
	struct stat st;
	if (!folder || stat(folder, &st) < 0)
		return dcfs_error_set(e, errno, "feature \"%s\": %s: %s", key, joined,
				      strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return dcfs_error_set(e, ENOTDIR, "feature \"%s\": %s is not a folder", key, folder);
	const char *root = devcontainer_root(dir);
	size_t n = strlen(root);
	if (strncmp(folder, root, n) || folder[n] != '/')
		return dcfs_error_set(e, EINVAL, "feature \"%s\": a local feature must be a folder "
				      "inside %s", key, root);
	return set_source(out, DCFS_FEATURE_LOCAL, key, folder, folder, e);
}

/* ---- the forms ------------------------------------------------------------------------------- */

int dcfs_feature_source_parse(const char *key, const char *config_dir, dcfs_feature_source *out,
			      dcfs_error *e)
{
	*out = (dcfs_feature_source){0};
	if (!key || !*key)
		return dcfs_error_set(e, EINVAL, "a feature with an empty name");
	if (!strncmp(key, "./", 2) || !strncmp(key, "../", 3))
		return parse_local(key, config_dir, out, e);
	if (key[0] == '/')
		return dcfs_error_set(e, EINVAL, "feature \"%s\": absolute paths are not allowed; "
				      "write a folder beside devcontainer.json as \"./NAME\"", key);
	if (!strncasecmp(key, "https://", 8) || !strncasecmp(key, "http://", 7))
		return parse_tarball(key, out, e);
	if (strstr(key, "://"))
		return dcfs_error_set(e, EINVAL, "feature \"%s\": only https:// (or http:// to a "
				      "loopback host) URLs are allowed", key);
	if (!strchr(key, '/') && !strchr(key, ':') && !strchr(key, '@'))
		return parse_legacy(key, out, e);
	return parse_oci(key, key, out, e);
}

void dcfs_feature_source_free(dcfs_feature_source *s)
{
	if (!s)
		return;
	free(s->written);
	free(s->location);
	free(s->resource);
	*s = (dcfs_feature_source){0};
}
