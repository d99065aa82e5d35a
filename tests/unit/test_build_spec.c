/* The build spec of a devcontainer.json read from a temporary folder: the Dockerfile and context
 * resolved against the configuration's folder as the reference CLI resolves them (the context
 * defaulting to the Dockerfile's folder, the legacy `dockerFile` taking its `context` from the
 * top level), substitution applied first, args in order, target, options, cacheFrom as a string
 * or an array, no spec for image and Compose configurations, and one-line errors naming the
 * configuration file, the property and the path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_spec.h"
#include "fsutil.h"
#include "tap.h"

static char root[] = "/tmp/dcfs-spec-XXXXXX";

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	dcfs_mkdir_p(path, 0755);
	*slash = '/';
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static char *at(const char *rel)
{
	static char buf[4][256];
	static int i;
	char *b = buf[i++ % 4];
	snprintf(b, sizeof(buf[0]), "%s%s%s", root, *rel ? "/" : "", rel);
	return b;
}

/* The spec of the configuration `json` (written to .devcontainer/devcontainer.json); the
 * result of dcfs_build_spec_read, with *err its message. */
static int spec_of(const char *json, dcfs_build_spec *b, char **err)
{
	put(".devcontainer/devcontainer.json", json);
	dcfs_devcontainer_opts o = {.folder = root};
	dcfs_devcontainer d = {0};
	dcfs_error e = {0};
	*err = NULL;
	int r = dcfs_devcontainer_read(&o, &d, &e);
	if (!tap_result(r == 0, __FILE__, __LINE__, "read %s", json))
		tap_diag("  %s", e.msg ? e.msg : "");
	if (r == 0)
		r = dcfs_build_spec_read(&d, b, &e);
	*err = e.msg ? strdup(e.msg) : NULL;
	dcfs_error_clear(&e);
	dcfs_devcontainer_free(&d);
	return r;
}

static void defaults_and_lists(void)
{
	put(".devcontainer/Dockerfile", "FROM x\n");
	dcfs_build_spec b;
	char *err;
	CHECK_INT(spec_of("{\"build\":{\"dockerfile\":\"Dockerfile\","
			  "\"args\":{\"B\":\"2\",\"A\":\"x y\"},\"target\":\"dev\","
			  "\"options\":[\"--network=host\",\"--pull\"],\"cacheFrom\":\"img:1\"}}",
			  &b, &err), 1);
	CHECK_STR(b.dockerfile, at(".devcontainer/Dockerfile"));
	CHECK_STR(b.context, at(".devcontainer")); /* the Dockerfile's folder */
	CHECK_INT(b.n_args, 2);
	if (b.n_args == 2) {
		CHECK_STR(b.args[0], "B=2");
		CHECK_STR(b.args[1], "A=x y");
	}
	CHECK_STR(b.target, "dev");
	CHECK_INT(b.n_options, 2);
	if (b.n_options == 2)
		CHECK_STR(b.options[1], "--pull");
	CHECK_INT(b.n_cache_from, 1);
	if (b.n_cache_from == 1)
		CHECK_STR(b.cache_from[0], "img:1");
	dcfs_build_spec_free(&b);
	CHECK(b.dockerfile == NULL && b.n_args == 0);

	CHECK_INT(spec_of("{\"build\":{\"dockerfile\":\"Dockerfile\",\"context\":\"..\","
			  "\"cacheFrom\":[\"a\",\"b\"],\"target\":\"\"}}", &b, &err), 1);
	CHECK_STR(b.context, at(""));
	CHECK_INT(b.n_cache_from, 2);
	CHECK(b.target == NULL); /* an empty target is none, as the reference's `if (target)` */
	CHECK_INT(b.n_args, 0);
	CHECK_INT(b.n_options, 0);
	dcfs_build_spec_free(&b);
}

static void legacy_and_substitution(void)
{
	put("docker/Dockerfile.dev", "FROM y\n");
	dcfs_build_spec b;
	char *err;
	/* legacy dockerFile: its context is the top-level one; build.context does not count */
	CHECK_INT(spec_of("{\"dockerFile\":\"../docker/Dockerfile.dev\","
			  "\"build\":{\"context\":\"..\",\"args\":{\"V\":\"1\"}}}", &b, &err), 1);
	CHECK_STR(b.dockerfile, at("docker/Dockerfile.dev"));
	CHECK_STR(b.context, at("docker"));
	CHECK_INT(b.n_args, 1);
	dcfs_build_spec_free(&b);
	CHECK_INT(spec_of("{\"dockerFile\":\"../docker/Dockerfile.dev\",\"context\":\"..\"}", &b,
			  &err), 1);
	CHECK_STR(b.context, at(""));
	dcfs_build_spec_free(&b);
	/* substituted before it is read; an absolute path stays as it is */
	CHECK_INT(spec_of("{\"build\":{\"dockerfile\":\"${localWorkspaceFolder}/docker/"
			  "Dockerfile.dev\",\"context\":\"${localWorkspaceFolder}/docker/../docker\","
			  "\"args\":{\"F\":\"${localWorkspaceFolderBasename}\"}}}", &b, &err), 1);
	CHECK_STR(b.dockerfile, at("docker/Dockerfile.dev"));
	CHECK_STR(b.context, at("docker"));
	char want[64];
	snprintf(want, sizeof(want), "F=%s", strrchr(root, '/') + 1);
	if (b.n_args == 1)
		CHECK_STR(b.args[0], want);
	dcfs_build_spec_free(&b);
}

static void not_dockerfile(void)
{
	dcfs_build_spec b;
	char *err;
	CHECK_INT(spec_of("{\"image\":\"debian\"}", &b, &err), 0);
	CHECK(b.dockerfile == NULL && b.context == NULL);
	CHECK_INT(spec_of("{\"dockerComposeFile\":\"c.yml\",\"service\":\"app\","
			  "\"workspaceFolder\":\"/w\"}", &b, &err), 0);
	CHECK(b.dockerfile == NULL);
}

static void errors(void)
{
	dcfs_build_spec b;
	char *err, want[512];
	const char *config = at(".devcontainer/devcontainer.json");
	CHECK(spec_of("{\"build\":{\"dockerfile\":\"Nope\"}}", &b, &err) == -ENOENT);
	snprintf(want, sizeof(want), "%s: build.dockerfile: %s: No such file or directory", config,
		 at(".devcontainer/Nope"));
	CHECK_STR(err, want);
	free(err);
	CHECK(b.dockerfile == NULL);
	CHECK(spec_of("{\"dockerFile\":\"Nope\"}", &b, &err) == -ENOENT);
	CHECK(err && strstr(err, ": dockerFile: "));
	free(err);
	CHECK(spec_of("{\"build\":{\"dockerfile\":\"Dockerfile\",\"context\":\"Dockerfile\"}}", &b,
		      &err) == -ENOTDIR);
	snprintf(want, sizeof(want), "%s: build.context: %s: Not a directory", config,
		 at(".devcontainer/Dockerfile"));
	CHECK_STR(err, want);
	free(err);
	CHECK(spec_of("{\"build\":{\"dockerfile\":\"Dockerfile\",\"context\":\"gone\"}}", &b,
		      &err) == -ENOENT);
	CHECK(err && strstr(err, "build.context: ") && strstr(err, "/gone: No such file"));
	free(err);
	CHECK(spec_of("{\"build\":{\"dockerfile\":\".\"}}", &b, &err) == -EISDIR);
	free(err);
}

int main(void)
{
	if (!mkdtemp(root))
		return 1;
	defaults_and_lists();
	legacy_and_substitution();
	not_dockerfile();
	errors();
	dcfs_rm_rf(root);
	return tap_done();
}
