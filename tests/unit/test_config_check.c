/* The devcontainer.json check: sizes, the nearest known name, and the exact message and place
 * of errors and warnings for small documents. */
#include <stdlib.h>
#include <string.h>

#include "config_check.h"
#include "config_schema.h"
#include "tap.h"

/* Check `text`; the error message (or NULL) and the warnings joined by '|' are returned. */
static void run(const char *text, bool container, char **err, char **warnings)
{
	dcfs_jsonc_positions pos = {0};
	cJSON *v = NULL;
	dcfs_error e = {0};
	dcfs_diags w = {0};
	*err = NULL;
	if (dcfs_jsonc_parse_pos(text, strlen(text), "f", &v, &pos, &e) == 0) {
		dcfs_config_check_opts o = {.name = "f", .pos = &pos, .container = container};
		dcfs_config_check(v, &o, &w, &e);
	}
	*err = e.msg ? strdup(e.msg) : NULL;
	size_t len = 1;
	for (size_t i = 0; i < w.n; i++)
		len += strlen(w.v[i]) + 1;
	*warnings = calloc(1, len);
	for (size_t i = 0; i < w.n; i++) {
		if (i)
			strcat(*warnings, "|");
		strcat(*warnings, w.v[i]);
	}
	dcfs_diags_free(&w);
	dcfs_error_clear(&e);
	cJSON_Delete(v);
	dcfs_jsonc_positions_free(&pos);
}

static void gives(const char *text, bool container, const char *err, const char *warnings)
{
	char *got_err, *got_w;
	run(text, container, &got_err, &got_w);
	CHECK_STR(got_err, err);
	CHECK_STR(got_w, warnings);
	free(got_err);
	free(got_w);
}

static void sizes(void)
{
	double b = 0;
	CHECK(dcfs_config_size("4gb", &b) && b == 4.0 * 1024 * 1024 * 1024);
	CHECK(dcfs_config_size("512mb", &b) && b == 512.0 * 1024 * 1024);
	CHECK(dcfs_config_size("1.5tb", &b) && b == 1.5 * 1024 * 1024 * 1024 * 1024);
	CHECK(dcfs_config_size("8KB", &b) && b == 8192);
	CHECK(dcfs_config_size("100", &b) && b == 100);
	CHECK(!dcfs_config_size("4g", &b));
	CHECK(!dcfs_config_size("gb", &b));
	CHECK(!dcfs_config_size("4 gb", &b));
	CHECK(!dcfs_config_size("4pb", &b));
	CHECK(!dcfs_config_size("-1gb", &b));
	CHECK(!dcfs_config_size("1.gb", &b));
}

static void nearest(void)
{
	const dcfs_schema_object *s = &dcfs_schema_devcontainer;
	CHECK_STR(dcfs_schema_nearest(s, "postCreateComand"), "postCreateCommand");
	CHECK_STR(dcfs_schema_nearest(s, "RemoteUser"), "remoteUser");
	CHECK_STR(dcfs_schema_nearest(s, "forwardports"), "forwardPorts");
	CHECK_STR(dcfs_schema_nearest(s, "imgae"), "image");
	CHECK_STR(dcfs_schema_nearest(s, "numbers"), NULL);
	CHECK_STR(dcfs_schema_nearest(s, "x"), NULL);
	CHECK(dcfs_schema_find(s, "postCreateCommand") != NULL);
	CHECK(dcfs_schema_find(s, "PostCreateCommand") == NULL);
}

static void checks(void)
{
	gives("{\"image\": \"i\", \"name\": \"n\", \"$schema\": \"s\", \"customizations\": "
	      "{\"vscode\": {\"whatever\": 1}}}",
	      true, NULL, "");
	gives("{\n  \"image\": 5\n}", false, "f:2:12: \"image\" must be a string, not an integer",
	      "");
	gives("{\"postCreateCommand\": 42}", false,
	      "f:1:23: \"postCreateCommand\" must be a string, an array of strings or an object of "
	      "those (named commands run in parallel), not an integer",
	      "");
	gives("{\"onCreateCommand\": {\"a\": \"x\", \"b\": [\"y\", 1]}}", false,
	      "f:1:43: \"onCreateCommand.b[1]\" must be a string, not an integer", "");
	gives("[1]", false, "f:1:1: expected a JSON object at the top level, not an array", "");
	gives("{\"shutdownAction\": \"stop\"}", false,
	      "f:1:20: \"shutdownAction\": \"stop\" is not one of none,stopContainer,stopCompose", "");
	gives("{\"shutdownAction\": \"stopCompose\"}", false,
	      "f:1:20: \"shutdownAction\": \"stopCompose\" needs a \"dockerComposeFile\" "
	      "configuration (use none or stopContainer)",
	      "");
	gives("{\"forwardPorts\": [3000, \"db:5432\", 70000]}", false,
	      "f:1:36: \"forwardPorts[2]\": 70000 is not a port: expected an integer 0 to 65535 or "
	      "\"host:port\"",
	      "");
	gives("{\"postCreateComand\": \"x\"}", false, NULL,
	      "f:1:2: unknown property \"postCreateComand\": did you mean \"postCreateCommand\"?");
	gives("{\"build\": {\"dockerfile\": \"D\"}}", true, NULL, "");
	gives("{\"dockerComposeFile\": \"c.yml\", \"service\": \"app\"}", true, NULL, "");
	gives("{\"features\": {\"a\": {}, \"b\": \"1\", \"c\": true}, "
	      "\"overrideFeatureInstallOrder\": [\"b\"]}", true, NULL, "");
	gives("{\"features\": {\"a\": 1}}", true,
	      "f:1:20: \"features.a\" must be an object of options, a version string or true, "
	      "not an integer", "");
	gives("{\"overrideFeatureInstallOrder\": [1]}", false,
	      "f:1:34: \"overrideFeatureInstallOrder[0]\" must be a string, not an integer", "");
	gives("{\"hostRequirements\": {\"cpus\": \"2\"}}", false,
	      "f:1:31: \"hostRequirements.cpus\" must be an integer, not a string", "");
	gives("{\"hostRequirements\": {\"memory\": \"4 gb\"}}", false,
	      "f:1:33: \"hostRequirements.memory\": \"4 gb\" is not a size: expected a number with "
	      "kb, mb, gb or tb (\"4gb\")",
	      "");
	gives("{\"mounts\": [\"type=bind,source=a,target=b\", {\"type\": \"volume\", \"targt\": "
	      "\"/x\"}]}",
	      false, NULL,
	      "f:1:63: unknown property \"targt\" in \"mounts[1]\": did you mean \"target\"?");
	gives("{\"userEnvProbe\": \"login\"}", false,
	      "f:1:18: \"userEnvProbe\": \"login\" is not one of "
	      "none,loginShell,loginInteractiveShell,interactiveShell",
	      "");
	gives("{\"appPort\": [8080, \"1:2\", true]}", false,
	      "f:1:27: \"appPort[2]\" must be an integer or a string, not a boolean", "");
}

int main(void)
{
	sizes();
	nearest();
	checks();
	return tap_done();
}
