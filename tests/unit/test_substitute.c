/* Variable substitution: each variable, defaults, unknown and malformed references, the walk
 * over a whole configuration, and ${devcontainerId} against values from the reference CLI's
 * algorithm. */
#include <stdlib.h>
#include <string.h>

#include "jsonc.h"
#include "substitute.h"
#include "tap.h"

static const char *fake_env(const char *name, void *data)
{
	if (!strcmp(name, "HOME"))
		return "/home/u";
	if (!strcmp(name, "EMPTY"))
		return "";
	if (!strcmp(name, "PATH"))
		return (const char *)data;
	return NULL;
}

static const dcfs_subst_ctx ctx = {
	.local_env = fake_env,
	.local_workspace_folder = "/src/proj",
	.container_workspace_folder = "/workspaces/proj",
};

static void subst(const dcfs_subst_ctx *c, const char *in, const char *expect)
{
	char *out = NULL;
	dcfs_error e = {0};
	int r = dcfs_subst_string(c, in, &out, &e);
	if (!tap_result(r == 0 && tap_str_eq(out, expect), __FILE__, __LINE__, "'%s' -> '%s'", in,
			expect))
		tap_diag("  got '%s' (%s)", out ? out : "(null)", e.msg ? e.msg : "no error");
	free(out);
	dcfs_error_clear(&e);
}

static void variables(void)
{
	subst(&ctx, "plain", "plain");
	subst(&ctx, "", "");
	subst(&ctx, "${localEnv:HOME}/x", "/home/u/x");
	subst(&ctx, "${env:HOME}", "/home/u");
	subst(&ctx, "[${localEnv:NOPE}]", "[]");
	subst(&ctx, "${localEnv:NOPE:fallback}", "fallback");
	subst(&ctx, "${localEnv:NOPE:a:b}", "a:b"); /* a default may contain ':' (the reference cuts it) */
	subst(&ctx, "${localEnv:NOPE:http://localhost:8080/x}", "http://localhost:8080/x");
	subst(&ctx, "${localEnv:EMPTY:fallback}", "");
	subst(&ctx, "${localEnv:HOME:fallback}", "/home/u");
	subst(&ctx, "${localEnv:}", "");
	subst(&ctx, "${localWorkspaceFolder}", "/src/proj");
	subst(&ctx, "${localWorkspaceFolderBasename}", "proj");
	subst(&ctx, "${containerWorkspaceFolder}", "/workspaces/proj");
	subst(&ctx, "${containerWorkspaceFolderBasename}", "proj");
	subst(&ctx, "${devcontainerId}", "${devcontainerId}");
	subst(&ctx, "${containerEnv:PATH}", "${containerEnv:PATH}");
	subst(&ctx, "${unknown} ${localEnv:HOME}", "${unknown} /home/u");
	subst(&ctx, "$HOME ${ ${} $}", "$HOME ${ ${} $}");
	subst(&ctx, "${localEnv:HOME", "${localEnv:HOME");
	subst(&ctx, "${a${localEnv:HOME}", "${a${localEnv:HOME}"); /* the first '}' ends it */
	subst(&ctx, "${x\n${localEnv:HOME}", "${x\n/home/u");
	subst(&ctx, "${localEnv:HOME}${localEnv:HOME}", "/home/u/home/u");
	dcfs_subst_ctx none = {.local_env = fake_env};
	subst(&none, "${localWorkspaceFolder} ${containerWorkspaceFolderBasename}",
	      "${localWorkspaceFolder} ${containerWorkspaceFolderBasename}");
	dcfs_subst_ctx later = ctx;
	later.devcontainer_id = "0abc";
	later.container_env = fake_env;
	later.container_env_data = (void *)"/usr/bin";
	subst(&later, "${devcontainerId}:${containerEnv:PATH}:${containerEnv:X:d}",
	      "0abc:/usr/bin:d");
	dcfs_subst_ctx trailing = ctx;
	trailing.local_workspace_folder = "/src/proj/";
	subst(&trailing, "${localWorkspaceFolderBasename}", "proj");
}

static void errors(void)
{
	char *out = NULL;
	dcfs_error e = {0};
	CHECK(dcfs_subst_string(&ctx, "a ${localEnv} b", &out, &e) == -EINVAL);
	CHECK_STR(e.msg, "'${localEnv}' in devcontainer.json can not be resolved because no"
			 " environment variable name is given");
	CHECK(out == NULL);
	dcfs_error_clear(&e);
}

static void whole_config(void)
{
	static const char text[] = "{\"a\": \"${localEnv:HOME}\", \"${localEnv:HOME}\": "
				   "[\"${containerWorkspaceFolder}\", 1,"
				   " {\"b\": \"${localWorkspaceFolderBasename}\"}]}";
	cJSON *v = NULL;
	CHECK(dcfs_jsonc_parse(text, strlen(text), "t", &v, NULL) == 0);
	dcfs_subst_ctx c = ctx;
	c.container_workspace_folder = "/w/${localWorkspaceFolderBasename}";
	CHECK(dcfs_subst_json(&c, v, NULL) == 0);
	char *out = cJSON_PrintUnformatted(v);
	CHECK_STR(out, "{\"a\":\"/home/u\",\"${localEnv:HOME}\":[\"/w/proj\",1,{\"b\":\"proj\"}]}");
	free(out);
	cJSON_Delete(v);
}

/* `s` repeated n times, then `tail`, substituted; the characters the scan looked at. */
static size_t scan_cost(const char *s, size_t n, const char *tail, char **out)
{
	size_t len = strlen(s), scanned = 0;
	char *in = malloc(n * len + strlen(tail) + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(in + i * len, s, len);
	strcpy(in + n * len, tail);
	dcfs_subst_ctx c = ctx;
	c.scanned = &scanned;
	*out = NULL;
	CHECK(dcfs_subst_string(&c, in, out, NULL) == 0);
	free(in);
	return scanned;
}

/* 80,000 unclosed `${` on one line: each one's search for '}' must not rescan the line (which
 * took 4 s); the work is counted, not timed: at most a few looks per input character. */
static void linear(void)
{
	static const char *const cases[][2] = {
		{"${", ""}, {"${a", ""}, {"${", "}"}, {"x${${", "${localEnv:HOME}"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *s = cases[i][0], *tail = cases[i][1];
		size_t n = 80000, len = n * strlen(s) + strlen(tail);
		char *out = NULL;
		size_t cost = scan_cost(s, n, tail, &out);
		tap_result(cost <= 2 * len + 16, __FILE__, __LINE__,
			   "'%s' x %zu + '%s': %zu characters looked at for %zu", s, n, tail, cost,
			   len);
		free(out);
	}
	/* the output is still the reference's: the first '}' closes the first '${' of the line */
	char *out = NULL;
	scan_cost("${", 3, "}${localEnv:HOME}", &out);
	CHECK_STR(out, "${${${}/home/u");
	free(out);
	scan_cost("${x", 2, "\n${localEnv:HOME}", &out);
	CHECK_STR(out, "${x${x\n/home/u");
	free(out);
}

/* Expected values computed with the reference CLI's devcontainerIdForLabels. */
static void devcontainer_id(void)
{
	static const char *const cases[][3] = {
		{"/tmp/x", "/tmp/x/.devcontainer/devcontainer.json",
		 "0lvtagu0jfi6715f9gr5538rphasi4c2q3pd63mntefdbur53b19"},
		{"/home/u/\xc3\xa9 \"q\"\\\t", "/home/u/c.json",
		 "0n9cb4bhdghtt9tp17cdi1hecjprifedae8jdke36nhb020qgg9g"},
		{"/", "", "1cba76en6uuop2i5ulmrr6johl7v3vbt5m4rr5vvv4hsovvd4dqa"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char id[53];
		CHECK(dcfs_devcontainer_id(cases[i][0], cases[i][1], id, NULL) == 0);
		CHECK_STR(id, cases[i][2]);
	}
}

int main(void)
{
	variables();
	errors();
	whole_config();
	devcontainer_id();
	linear();
	return tap_done();
}
