/* launcher/feature's pure part: parsing `features` keys (OCI references, local folders, tarball
 * URLs, legacy short names, and what is refused), devcontainer-feature.json read with its
 * errors' places, options (defaults, types, enum, proposals, environment names) and the spec's
 * install order (dependsOn, installsAfter, overrideFeatureInstallOrder, cycles, missing
 * dependencies). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feature.h"
#include "jsonc.h"
#include "tap.h"

static char tmp[] = "/tmp/test_feature_spec.XXXXXX";

static void put_file(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

static void put_dir(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	if (mkdir(path, 0755) && errno != EEXIST)
		abort();
}

/* ---- sources --------------------------------------------------------------------------------- */

static void source_is(const char *key, const char *dir, dcfs_feature_kind kind,
		      const char *location, const char *resource)
{
	dcfs_feature_source s;
	dcfs_error e = {0};
	int r = dcfs_feature_source_parse(key, dir, &s, &e);
	CHECK_INT(r, 0);
	if (r < 0) {
		tap_diag("  %s: %s", key, e.msg);
		dcfs_error_clear(&e);
		return;
	}
	CHECK_INT(s.kind, kind);
	CHECK_STR(s.written, key);
	CHECK_STR(s.location, location);
	CHECK_STR(s.resource, resource);
	dcfs_feature_source_free(&s);
}

static void source_fails(const char *key, const char *dir, const char *msg_part)
{
	dcfs_feature_source s;
	dcfs_error e = {0};
	CHECK(dcfs_feature_source_parse(key, dir, &s, &e) < 0);
	if (!CHECK(e.msg && strstr(e.msg, msg_part)))
		tap_diag("  %s: got \"%s\"", key, e.msg ? e.msg : "(null)");
	CHECK(s.written == NULL);
	dcfs_error_clear(&e);
}

static void sources(void)
{
	char dc[512], sub[600], feat[600];
	snprintf(dc, sizeof(dc), "%s/ws/.devcontainer", tmp);
	snprintf(sub, sizeof(sub), "%s/sub", dc);
	put_dir("ws");
	put_dir("ws/.devcontainer");
	put_dir("ws/.devcontainer/sub");
	put_dir("ws/.devcontainer/my-feature");
	put_dir("ws/outside");
	put_file("ws/.devcontainer/file", "x");

	source_is("ghcr.io/devcontainers/features/node:1", dc, DCFS_FEATURE_OCI,
		  "ghcr.io/devcontainers/features/node:1", "ghcr.io/devcontainers/features/node");
	source_is("ghcr.io/devcontainers/features/node", dc, DCFS_FEATURE_OCI,
		  "ghcr.io/devcontainers/features/node:latest",
		  "ghcr.io/devcontainers/features/node");
	source_is("localhost:5000/a/b@sha256:"
		  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  NULL, DCFS_FEATURE_OCI,
		  "localhost:5000/a/b@sha256:"
		  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  "localhost:5000/a/b");
	/* legacy short names, as the reference CLI maps them */
	source_is("node", NULL, DCFS_FEATURE_OCI, "ghcr.io/devcontainers/features/node:1",
		  "ghcr.io/devcontainers/features/node");
	source_is("common", NULL, DCFS_FEATURE_OCI,
		  "ghcr.io/devcontainers/features/common-utils:1",
		  "ghcr.io/devcontainers/features/common-utils");
	source_is("golang", NULL, DCFS_FEATURE_OCI, "ghcr.io/devcontainers/features/go:1",
		  "ghcr.io/devcontainers/features/go");
	source_is("docker-from-docker", NULL, DCFS_FEATURE_OCI,
		  "ghcr.io/devcontainers/features/docker-from-docker:1",
		  "ghcr.io/devcontainers/features/docker-from-docker");
	source_fails("maven", NULL, "part of \"ghcr.io/devcontainers/features/java\"");
	source_fails("no-such-feature", NULL, "\"no-such-feature\": not a known legacy feature");
	/* tarballs */
	source_is("https://example.com/f/devcontainer-feature-x.tgz", NULL, DCFS_FEATURE_TARBALL,
		  "https://example.com/f/devcontainer-feature-x.tgz",
		  "https://example.com/f/devcontainer-feature-x.tgz");
	source_is("http://127.0.0.1:8080/devcontainer-feature-x.tgz", NULL, DCFS_FEATURE_TARBALL,
		  "http://127.0.0.1:8080/devcontainer-feature-x.tgz",
		  "http://127.0.0.1:8080/devcontainer-feature-x.tgz");
	source_is("http://localhost/x.tgz", NULL, DCFS_FEATURE_TARBALL, "http://localhost/x.tgz",
		  "http://localhost/x.tgz");
	source_is("http://[::1]:9/x.tgz", NULL, DCFS_FEATURE_TARBALL, "http://[::1]:9/x.tgz",
		  "http://[::1]:9/x.tgz");
	source_fails("http://example.com/x.tgz", NULL, "only allowed to a loopback host");
	source_fails("http://127.0.0.1.example.com/x.tgz", NULL, "loopback host");
	source_fails("ftp://example.com/x.tgz", NULL, "only https://");
	/* local folders */
	snprintf(feat, sizeof(feat), "%s/my-feature", dc);
	source_is("./my-feature", dc, DCFS_FEATURE_LOCAL, feat, feat);
	source_is("../my-feature", sub, DCFS_FEATURE_LOCAL, feat, feat);
	source_fails("../outside", dc, "must be a folder inside");
	source_fails("./missing", dc, "No such file");
	source_fails("./file", dc, "is not a folder");
	source_fails("./my-feature", NULL, "only allowed in devcontainer.json");
	source_fails("/abs/feature", dc, "absolute paths are not allowed");
	source_fails("", dc, "empty name");
	source_fails("ghcr.io/Bad Ref:1", dc, "feature \"ghcr.io/Bad Ref:1\"");
	source_fails("owner/feature:1", dc, "must name its registry");
}

/* ---- devcontainer-feature.json ------------------------------------------------------------ */

static void read_fails(const char *text, const char *msg)
{
	put_dir("f");
	put_file("f/devcontainer-feature.json", text);
	char folder[512], expect[1024];
	snprintf(folder, sizeof(folder), "%s/f", tmp);
	snprintf(expect, sizeof(expect), "%s/devcontainer-feature.json:%s", folder, msg);
	cJSON *json = NULL;
	dcfs_error e = {0};
	CHECK(dcfs_feature_read(folder, &json, &e) < 0);
	CHECK_STR(e.msg, expect);
	CHECK(json == NULL);
	dcfs_error_clear(&e);
}

static void reading(void)
{
	put_dir("f");
	put_file("f/devcontainer-feature.json",
		 "// a feature\n{\"id\": \"x\", \"version\": \"1.0.0\",\n"
		 " \"options\": {\"a\": {\"type\": \"boolean\", \"default\": true},},\n"
		 " \"dependsOn\": {\"ghcr.io/o/r/y:1\": {}}, \"installsAfter\": [\"ghcr.io/o/r/z\"],\n"
		 " \"postCreateCommand\": {\"a\": \"x\", \"b\": [\"y\"]}}\n");
	char folder[512];
	snprintf(folder, sizeof(folder), "%s/f", tmp);
	cJSON *json = NULL;
	dcfs_error e = {0};
	CHECK_INT(dcfs_feature_read(folder, &json, &e), 0);
	CHECK(cJSON_IsObject(json));
	cJSON_Delete(json);
	dcfs_error_clear(&e);

	read_fails("{\"id\": \"x\",\n \"version\": 1}", "2:13: \"version\" must be a string");
	read_fails("{\"version\": \"1\"}", "1:1: \"id\" is missing");
	read_fails("{\"id\": \"x\", \"version\": \"1\",\n \"options\": {\"a\": {\"type\": "
		   "\"number\"}}}",
		   "2:28: \"options.a.type\" must be \"boolean\" or \"string\"");
	read_fails("{\"id\": \"x\", \"version\": \"1\", \"options\": []}",
		   "1:40: \"options\" must be an object");
	read_fails("{\"id\": \"x\", \"version\": \"1\", \"options\": {\"a\": 1}}",
		   "1:46: \"options.a\" must be an object");
	read_fails("{\"id\": \"x\", \"version\": \"1\", \"options\": {\"a\": {\"type\": \"string\", "
		   "\"enum\": [1]}}}",
		   "1:73: \"options.a.enum\" must be an array of strings");
	read_fails("{\"id\": \"x\", \"version\": \"1\", \"dependsOn\": []}",
		   "1:42: \"dependsOn\" must be an object");
	read_fails("{\"id\": \"x\", \"version\": \"1\", \"installsAfter\": \"y\"}",
		   "1:46: \"installsAfter\" must be an array of strings");
	read_fails("{\"id\": \"x\", \"version\": \"1\", \"onCreateCommand\": 3}",
		   "1:48: \"onCreateCommand\" must be a string, an array of strings or an object");
	read_fails("{\"id\": \"x\",\n  \"version\": \"1\",,}", "2:18: expected a string key or '}'");
	read_fails("[]", "1:1: expected an object");
}

/* ---- options --------------------------------------------------------------------------------- */

static const char *feature_json =
	"{\"id\": \"t\", \"version\": \"1\", \"options\": {"
	"\"version\": {\"type\": \"string\", \"default\": \"latest\", \"proposals\": [\"latest\", "
	"\"18\"]},"
	"\"install-tools\": {\"type\": \"boolean\", \"default\": false},"
	"\"2fa\": {\"type\": \"string\", \"enum\": [\"on\", \"off\"], \"default\": \"off\"},"
	"\"nodefault\": {\"type\": \"string\"}}}";

typedef struct warnings {
	char text[1024];
} warnings;

static void on_warning(void *opaque, const char *line)
{
	warnings *w = opaque;
	size_t n = strlen(w->text);
	snprintf(w->text + n, sizeof(w->text) - n, "%s;", line);
}

/* The env lines joined with ' ', or the error message. malloc'd. */
static char *options_of(const char *feature, const char *given_text, warnings *w)
{
	cJSON *json = cJSON_Parse(feature), *given = given_text ? cJSON_Parse(given_text) : NULL;
	cJSON *values = NULL, *env = NULL;
	dcfs_error e = {0};
	dcfs_report report = {.warning = on_warning, .opaque = w};
	char out[2048] = "";
	if (dcfs_feature_options(json, given, "t", &report, &values, &env, &e) < 0)
		snprintf(out, sizeof(out), "error: %s", e.msg);
	for (const cJSON *it = env ? env->child : NULL; it; it = it->next)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", *out ? " " : "",
			 it->valuestring);
	if (values && env)
		CHECK_INT(cJSON_GetArraySize(values), cJSON_GetArraySize(env));
	cJSON_Delete(json);
	cJSON_Delete(given);
	cJSON_Delete(values);
	cJSON_Delete(env);
	dcfs_error_clear(&e);
	return strdup(out);
}

static void options_give(const char *given, const char *env, const char *warning)
{
	warnings w = {{0}};
	char *got = options_of(feature_json, given, &w);
	CHECK_STR(got, env);
	CHECK_STR(w.text, warning);
	free(got);
}

static void options(void)
{
	const char *defaults = "VERSION=latest INSTALL_TOOLS=false _FA=off";
	options_give(NULL, defaults, "");
	options_give("true", defaults, "");
	options_give("{}", defaults, "");
	options_give("\"20\"", "VERSION=20 INSTALL_TOOLS=false _FA=off", "");
	options_give("{\"version\": \"custom\", \"install-tools\": true, \"2fa\": \"on\", "
		     "\"nodefault\": \"x\"}",
		     "VERSION=custom INSTALL_TOOLS=true _FA=on NODEFAULT=x", "");
	/* as the reference CLI writes them: "true"/"false" for booleans, booleans as strings */
	options_give("{\"install-tools\": \"true\"}", "VERSION=latest INSTALL_TOOLS=true _FA=off",
		     "");
	options_give("{\"nodefault\": false}", "VERSION=latest INSTALL_TOOLS=false _FA=off "
		     "NODEFAULT=false", "");
	options_give("{\"install-tools\": \"yes\"}",
		     "error: feature \"t\": option \"install-tools\" takes true or false, not a "
		     "string", "");
	options_give("{\"version\": 18}",
		     "error: feature \"t\": option \"version\" takes a string, not a number", "");
	options_give("{\"2fa\": \"maybe\"}",
		     "error: feature \"t\": option \"2fa\": \"maybe\" is not one of \"on\", \"off\"",
		     "");
	options_give("{\"other.opt\": \"v\"}", "VERSION=latest INSTALL_TOOLS=false _FA=off "
		     "OTHER_OPT=v", "feature \"t\" has no option \"other.opt\" (passed on as it is);");
	options_give("false", "error: feature \"t\": takes an object of options, a version string "
		     "or true, not a boolean", "");
	/* a version string for a feature without a "version" option is dropped, as the CLI does */
	warnings w = {{0}};
	char *got = options_of("{\"id\": \"t\", \"version\": \"1\"}", "\"2\"", &w);
	CHECK_STR(got, "");
	CHECK_STR(w.text, "feature \"t\" has no option \"version\": \"2\" is ignored;");
	free(got);
	/* names: the spec's rule */
	got = options_of("{\"id\": \"t\", \"version\": \"1\", \"options\": {"
			 "\"__9lives\": {\"type\": \"string\", \"default\": \"a\"},"
			 "\"dotted.name-x\": {\"type\": \"string\", \"default\": \"b\"},"
			 "\"caf\xc3\xa9\": {\"type\": \"boolean\", \"default\": true}}}",
			 NULL, &w);
	CHECK_STR(got, "_LIVES=a DOTTED_NAME_X=b CAF_=true");
	free(got);
}

/* ---- order ----------------------------------------------------------------------------------- */

typedef struct fake {
	const char *key, *json, *values;
} fake;

static void make(dcfs_feature *f, const fake *spec)
{
	*f = (dcfs_feature){0};
	dcfs_error e = {0};
	if (dcfs_feature_source_parse(spec->key, NULL, &f->src, &e) < 0)
		abort();
	f->json = cJSON_Parse(spec->json ? spec->json : "{\"id\": \"x\", \"version\": \"1\"}");
	f->values = cJSON_Parse(spec->values ? spec->values : "{}");
	if (!f->json || !f->values)
		abort();
}

/* The order of `n` fakes as their keys' last path components joined by ' ', or the error. */
static char *order_of(const fake *spec, size_t n, const char *override)
{
	dcfs_feature f[16];
	size_t order[16];
	for (size_t i = 0; i < n; i++)
		make(&f[i], &spec[i]);
	cJSON *over = override ? cJSON_Parse(override) : NULL;
	dcfs_error e = {0};
	char out[1024] = "";
	if (dcfs_feature_order(f, n, over, order, &e) < 0)
		snprintf(out, sizeof(out), "error %d: %s", e.code, e.msg);
	else
		for (size_t i = 0; i < n; i++) {
			const char *slash = strrchr(f[order[i]].src.resource, '/');
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "",
				 slash + 1);
		}
	for (size_t i = 0; i < n; i++) {
		dcfs_feature_source_free(&f[i].src);
		cJSON_Delete(f[i].json);
		cJSON_Delete(f[i].values);
	}
	cJSON_Delete(over);
	dcfs_error_clear(&e);
	return strdup(out);
}

static void order_is(const fake *spec, size_t n, const char *override, const char *expect)
{
	char *got = order_of(spec, n, override);
	CHECK_STR(got, expect);
	free(got);
}

#define DEP(...) "{\"id\": \"x\", \"version\": \"1\", \"dependsOn\": {" __VA_ARGS__ "}}"
#define AFTER(...) "{\"id\": \"x\", \"version\": \"1\", \"installsAfter\": [" __VA_ARGS__ "]}"
#define OPTS "{\"id\": \"x\", \"version\": \"1\", \"options\": {\"v\": {\"type\": \"string\", " \
	     "\"default\": \"1\"}}}"

static void ordering(void)
{
	/* no dependencies: one round, sorted by resource */
	order_is((fake[]){{.key = "r.io/o/c:1"}, {.key = "r.io/o/a:1"}, {.key = "r.io/o/b"}}, 3,
		 NULL, "a b c");
	/* dependsOn chain: a needs b needs c */
	order_is((fake[]){{.key = "r.io/o/a:1", .json = DEP("\"r.io/o/b:1\": {}")},
			  {.key = "r.io/o/b:1", .json = DEP("\"r.io/o/c\": {}")},
			  {.key = "r.io/o/c:1"}},
		 3, NULL, "c b a");
	/* dependsOn matches options: b with v=2 is not b with v=1 (the default) */
	order_is((fake[]){{.key = "r.io/o/a:1", .json = DEP("\"r.io/o/b:1\": {\"v\": \"2\"}")},
			  {.key = "r.io/o/b:1", .json = OPTS, .values = "{\"v\": \"1\"}"}},
		 2, NULL,
		 "error 2: feature \"r.io/o/a:1\" depends on \"r.io/o/b:1\", which is not among "
		 "the features");
	order_is((fake[]){{.key = "r.io/o/a:1", .json = DEP("\"r.io/o/b:1\": {\"v\": \"1\"}")},
			  {.key = "r.io/o/b:1", .json = OPTS, .values = "{\"v\": \"1\"}"}},
		 2, NULL, "b a");
	order_is((fake[]){{.key = "r.io/o/a:1", .json = DEP("\"r.io/o/b\": {}")},
			  {.key = "r.io/o/b:1", .json = OPTS, .values = "{\"v\": \"1\"}"}},
		 2, NULL, "b a"); /* {} is b with its defaults */
	order_is((fake[]){{.key = "r.io/o/a:1", .json = DEP("\"r.io/o/b:1\": \"2\"")},
			  {.key = "r.io/o/b:1", .json = OPTS, .values = "{\"v\": \"1\"}"},
			  {.key = "r.io/o/b:2", .json = OPTS, .values = "{\"v\": \"2\"}"}},
		 3, NULL, "b b a");
	/* installsAfter: soft, only among those present */
	order_is((fake[]){{.key = "r.io/o/a:1", .json = AFTER("\"r.io/o/z\", \"r.io/o/missing\"")},
			  {.key = "r.io/o/z:1"}},
		 2, NULL, "z a");
	order_is((fake[]){{.key = "r.io/o/a:1", .json = AFTER("\"r.io/o/missing\"")},
			  {.key = "r.io/o/b:1"}},
		 2, NULL,
		 "a b");
	/* overrides: first entry first, as far as dependsOn allows */
	order_is((fake[]){{.key = "r.io/o/a:1"}, {.key = "r.io/o/b:1"}, {.key = "r.io/o/c:1"}}, 3,
		 "[\"r.io/o/c\", \"r.io/o/b:1\"]", "c b a");
	order_is((fake[]){{.key = "r.io/o/a:1"}, {.key = "r.io/o/b:1", .json = DEP("\"r.io/o/a\": {}")},
			  {.key = "r.io/o/c:1"}},
		 3, "[\"r.io/o/b\"]", "a b c");
	order_is((fake[]){{.key = "r.io/o/a:1"}}, 1, "[\"r.io/o/nothing\"]",
		 "error 22: \"overrideFeatureInstallOrder\": \"r.io/o/nothing\" names none of the "
		 "features");
	/* a cycle, through dependsOn and installsAfter */
	order_is((fake[]){{.key = "r.io/o/a:1", .json = DEP("\"r.io/o/b:1\": {}")},
			  {.key = "r.io/o/b:1", .json = AFTER("\"r.io/o/a\"")},
			  {.key = "r.io/o/c:1"},
			  {.key = "r.io/o/d:1", .json = DEP("\"r.io/o/a:1\": {}")}},
		 4, NULL,
		 "error 40: features depend on each other in a cycle (dependsOn or installsAfter): "
		 "\"r.io/o/a:1\", \"r.io/o/b:1\"");
	/* a missing dependency */
	order_is((fake[]){{.key = "r.io/o/a:1", .json = DEP("\"r.io/o/gone:1\": {}")}}, 1, NULL,
		 "error 2: feature \"r.io/o/a:1\" depends on \"r.io/o/gone:1\", which is not among "
		 "the features");
	order_is((fake[]){{.key = "r.io/o/a:1"}}, 0, NULL, "");
}

/* ---- resolve (local features) ---------------------------------------------------------- */

static void put_feature(const char *rel, const char *json)
{
	char sub[256];
	put_dir(rel);
	snprintf(sub, sizeof(sub), "%s/devcontainer-feature.json", rel);
	put_file(sub, json);
	snprintf(sub, sizeof(sub), "%s/install.sh", rel);
	put_file(sub, "#!/bin/sh\n");
}

/* The resolved features' ids and env joined, or the error. */
static char *resolve(const char *config_text)
{
	char config_file[600], out[2048] = "";
	snprintf(config_file, sizeof(config_file), "%s/r/.devcontainer/devcontainer.json", tmp);
	cJSON *config = cJSON_Parse(config_text);
	dcfs_feature *f = NULL;
	size_t n = 0;
	dcfs_error e = {0};
	if (dcfs_features_resolve(NULL, config, config_file, false, NULL, &f, &n, &e) < 0)
		snprintf(out, sizeof(out), "error: %s", e.msg + strlen(config_file));
	for (size_t i = 0; i < n; i++) {
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s%s", i ? " " : "",
			 f[i].id, f[i].added ? "+" : "");
		for (const cJSON *it = f[i].env->child; it; it = it->next)
			snprintf(out + strlen(out), sizeof(out) - strlen(out), ",%s",
				 it->valuestring);
		CHECK(f[i].digest && !strncmp(f[i].digest, "sha256:", 7));
	}
	dcfs_features_free(f, n);
	cJSON_Delete(config);
	dcfs_error_clear(&e);
	return strdup(out);
}

static void resolves(const char *config, const char *expect)
{
	char *got = resolve(config);
	CHECK_STR(got, expect);
	free(got);
}

static void resolving(void)
{
	put_dir("r");
	put_dir("r/.devcontainer");
	put_feature("r/.devcontainer/a", "{\"id\": \"a\", \"version\": \"1.0.0\", \"options\": "
				       "{\"v\": {\"type\": \"string\", \"default\": \"1\"}}}");
	put_feature("r/.devcontainer/b", "{\"id\": \"b\", \"version\": \"2.0.0\", "
				       "\"installsAfter\": [\"./a\", \"ghcr.io/o/r/none\"]}");
	put_feature("r/.devcontainer/c", "{\"id\": \"c\", \"version\": \"1\", \"dependsOn\": "
				       "{\"./a\": {}}}");
	resolves("{}", "");
	resolves("{\"features\": {\"./b\": {}, \"./a\": \"3\"}}", "a,V=1 b");
	resolves("{\"features\": {\"./a\": {\"v\": \"x\"}, \"./b\": true}, "
		 "\"overrideFeatureInstallOrder\": [\"./b\"]}",
		 "b a,V=x");
	resolves("{\"features\": {\"./a\": {}, \"./a/\": {\"v\": \"1\"}, \"../.devcontainer/a\": "
		 "{\"v\": \"2\"}}}",
		 "a,V=2 a,V=1"); /* ties by resource, then as written */
	resolves("{\"features\": {\"./a\": {\"v\": 1}}}",
		 "error: : feature \"./a\": option \"v\" takes a string, not a number");
	resolves("{\"features\": {\"./a\": false}}",
		 "error: : \"features\": \"./a\" must be an object of options, a version string "
		 "or true");
	resolves("{\"features\": {\"./c\": {}}}",
		 "error: : dependsOn of \"./c\": feature \"./a\": a local feature is only allowed "
		 "in devcontainer.json's features");
	char *got = resolve("{\"features\": {\"./gone\": {}}}");
	CHECK(strstr(got, "error: : feature \"./gone\": ") == got &&
	      strstr(got, "/.devcontainer/./gone: No such file or directory"));
	free(got);
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 1;
	sources();
	reading();
	options();
	ordering();
	resolving();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmp);
	return tap_done();
}
