/* The pure parts of Compose configurations: project names as the reference CLI makes them,
 * top-level YAML values read by a line scan, and the override file's JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose_internal.h"
#include "jsonc.h"
#include "tap.h"

static void name_is(const char *text, const char *want)
{
	char *got = dcfs_compose_project_name(text);
	CHECK_STR(got, want);
	free(got);
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/dcfs-test-compose-XXXXXX");
	int fd = mkstemp(path);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror("write");
		close(fd);
	}
	return path;
}

static void top_is(const char *text, const char *key, const char *want)
{
	char *path = write_tmp(text);
	char *got = dcfs_compose_top_value(path, key);
	CHECK_STR(got, want);
	free(got);
	unlink(path);
	free(path);
}

static void override(void)
{
	char *file = write_tmp("version: '3.8'\nservices:\n  app:\n    image: x\n");
	cJSON *files = cJSON_CreateArray();
	cJSON_AddItemToArray(files, cJSON_CreateString(file));
	dcfs_compose c = {.files = files, .service = "app", .project = "p"};
	cJSON *labels = cJSON_Parse("{\"devcontainer.local_folder\": \"/w\"}");
	cJSON *config = cJSON_Parse("{\"containerEnv\": {\"A\": \"x $HOME\"}, \"containerUser\": "
				    "\"u\", \"capAdd\": [\"SYS_PTRACE\"], \"privileged\": true, "
				    "\"mounts\": [\"type=volume,source=cache,target=/c\"]}");
	dcfs_compose_override o = {.keep_alive = true, .labels = labels,
				   .workspace_source = "/run/ws", .workspace_target = "/workspaces/w",
				   .config = config};
	dcfs_error e = {0};
	cJSON *j = dcfs_compose_override_json(&c, &o, &e);
	CHECK(j != NULL);
	cJSON *svc = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "services"), "app");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "version")), "3.8");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(svc, "entrypoint"), 0)),
		  "/bin/sh");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(svc, "labels"), 0)),
		  "devcontainer.local_folder=/w");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(svc, "environment"),
							   "A")),
		  "x $$HOME");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(svc, "user")), "u");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(svc, "privileged")));
	cJSON *vols = cJSON_GetObjectItem(svc, "volumes");
	CHECK(cJSON_GetArraySize(vols) == 2);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(vols, 0), "target")),
		  "/workspaces/w");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(vols, 1), "source")),
		  "cache");
	CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "volumes"), "cache") != NULL);
	cJSON_Delete(j);
	/* no keep-alive, no workspace, nothing else: labels only */
	dcfs_compose_override bare = {.labels = labels, .config = NULL};
	j = dcfs_compose_override_json(&c, &bare, &e);
	svc = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "services"), "app");
	CHECK(!cJSON_GetObjectItem(svc, "entrypoint") && !cJSON_GetObjectItem(svc, "volumes"));
	cJSON_Delete(j);
	/* a bad mount string is refused by name */
	cJSON *bad = cJSON_Parse("{\"mounts\": [\"type=bind,src=/a,dst=/b,frob=1\"]}");
	dcfs_compose_override wrong = {.labels = labels, .config = bad};
	CHECK(dcfs_compose_override_json(&c, &wrong, &e) == NULL && e.msg && strstr(e.msg, "frob"));
	dcfs_error_clear(&e);
	cJSON_Delete(bad), cJSON_Delete(labels), cJSON_Delete(config), cJSON_Delete(files);
	unlink(file);
	free(file);
}

int main(void)
{
	name_is("MyApp_devcontainer", "myapp_devcontainer");
	name_is("my app.v2", "myappv2");
	name_is("a-b_c", "a-b_c");
	name_is("...", "");
	top_is("version: \"3.8\"\nservices:\n  name: no\n", "version", "3.8");
	top_is("# name: x\nname: proj # comment\n", "name", "proj");
	top_is("services:\n  name: indented\n", "name", NULL);
	top_is("name: 'q'\n", "name", "q");
	override();
	return tap_done();
}
