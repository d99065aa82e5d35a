/* The prebuild key: the order of a configuration's keys does not matter, the commands that run
 * after a prebuild and the file's location do not count, anything else does, and each part of
 * the key changes only with its own input; a git tree changes the key, and without one the key
 * is what it was before trees were keyed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prebuild_key.h"
#include "tap.h"

static const char *const base = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

static dcfs_prebuild_key key_of(const char *json, const char *digest, const char *config_file)
{
	dcfs_devcontainer d = {.config = cJSON_Parse(json), .config_file = (char *)config_file};
	dcfs_prebuild_key k;
	dcfs_error e = {0};
	int r = dcfs_prebuild_key_compute(&d, digest, NULL, &k, &e);
	if (!tap_result(r == 0, __FILE__, __LINE__, "key of %s", json))
		tap_diag("  %s", e.msg ? e.msg : "no message");
	dcfs_error_clear(&e);
	cJSON_Delete(d.config);
	return k;
}

static void ordering_and_exclusions(void)
{
	dcfs_prebuild_key a = key_of("{\"image\":\"x\",\"onCreateCommand\":\"make\","
				     "\"containerEnv\":{\"A\":\"1\",\"B\":\"2\"}}", base, "/p/d.json");
	dcfs_prebuild_key b = key_of("{\"containerEnv\":{\"B\":\"2\",\"A\":\"1\"},"
				     "\"onCreateCommand\":\"make\",\"image\":\"x\"}", base, "/p/d.json");
	CHECK_STR(a.key, b.key);
	dcfs_prebuild_key c = key_of("{\"image\":\"x\",\"onCreateCommand\":\"make\","
				     "\"containerEnv\":{\"A\":\"1\",\"B\":\"2\"},"
				     "\"postCreateCommand\":\"a\",\"postStartCommand\":\"b\","
				     "\"postAttachCommand\":\"c\",\"configFilePath\":\"/elsewhere\"}",
				     base, "/p/d.json");
	CHECK_STR(a.key, c.key);
	dcfs_prebuild_key d = key_of("{\"image\":\"x\",\"onCreateCommand\":\"make all\","
				     "\"containerEnv\":{\"A\":\"1\",\"B\":\"2\"}}", base, "/p/d.json");
	CHECK(strcmp(a.key, d.key) != 0);
	CHECK(strcmp(a.config_hash, d.config_hash) != 0);
	CHECK_STR(a.build_hash, d.build_hash);
}

static void base_digest(void)
{
	const char *other = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
	dcfs_prebuild_key a = key_of("{\"image\":\"x\"}", base, "/p/d.json");
	dcfs_prebuild_key b = key_of("{\"image\":\"x\"}", other, "/p/d.json");
	CHECK(strcmp(a.key, b.key) != 0);
	CHECK_STR(a.config_hash, b.config_hash);
	CHECK_STR(b.base_digest, other);
}

static void dockerfile(void)
{
	char dir[] = "/tmp/dcfs-key-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char file[64], config[64];
	snprintf(file, sizeof(file), "%s/Dockerfile", dir);
	snprintf(config, sizeof(config), "%s/devcontainer.json", dir);
	FILE *f = fopen(file, "w");
	fputs("FROM x\n", f);
	fclose(f);
	const char *json = "{\"build\":{\"dockerfile\":\"Dockerfile\"}}";
	dcfs_prebuild_key a = key_of(json, base, config);
	f = fopen(file, "w");
	fputs("FROM x\nRUN true\n", f);
	fclose(f);
	dcfs_prebuild_key b = key_of(json, base, config);
	CHECK(strcmp(a.build_hash, b.build_hash) != 0);
	CHECK_STR(a.config_hash, b.config_hash);
	CHECK(strcmp(a.key, b.key) != 0);
	unlink(file);
	/* a Dockerfile that cannot be read is an error naming the configuration */
	dcfs_devcontainer d = {.config = cJSON_Parse(json), .config_file = config};
	dcfs_prebuild_key k;
	dcfs_error e = {0};
	CHECK(dcfs_prebuild_key_compute(&d, base, NULL, &k, &e) < 0);
	CHECK(e.msg && strstr(e.msg, config) && strstr(e.msg, "Dockerfile"));
	dcfs_error_clear(&e);
	cJSON_Delete(d.config);
	rmdir(dir);
}

static void workspace_tree(void)
{
	dcfs_prebuild_key a = key_of("{\"image\":\"x\"}", base, "/p/d.json");
	/* no tree: the hash of the three parts, as keys were made before */
	char all[300];
	snprintf(all, sizeof(all), "%s\n%s\n%s\n", a.config_hash, a.build_hash, base);
	dcfs_hash h;
	char hex[DCFS_HASH_HEX];
	dcfs_hash_buf(all, strlen(all), &h);
	dcfs_hash_to_hex(&h, hex);
	CHECK_STR(a.key, hex);
	CHECK_STR(a.workspace_tree, "");
	dcfs_error e = {0};
	dcfs_prebuild_key t1 = a, t2 = a;
	snprintf(t1.workspace_tree, sizeof(t1.workspace_tree), "%s",
		 "1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b");
	snprintf(t2.workspace_tree, sizeof(t2.workspace_tree), "%s",
		 "4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e");
	CHECK(dcfs_prebuild_key_combine(&t1, &e) == 0);
	CHECK(dcfs_prebuild_key_combine(&t2, &e) == 0);
	CHECK(strcmp(t1.key, a.key) != 0);
	CHECK(strcmp(t1.key, t2.key) != 0);
	CHECK_STR(t1.config_hash, a.config_hash);
	dcfs_error_clear(&e);
}

/* A Dockerfile configuration's build key is the build part: a changed context changes it. */
static void build_key(void)
{
	const char *json = "{\"build\":{\"dockerfile\":\"Dockerfile\"}}";
	dcfs_devcontainer d = {.config = cJSON_Parse(json), .config_file = (char *)"/nowhere/d.json"};
	dcfs_prebuild_key k1, k2;
	dcfs_error e = {0};
	const char *b1 = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *b2 = "2222222222222222222222222222222222222222222222222222222222222222";
	CHECK(dcfs_prebuild_key_compute(&d, base, b1, &k1, &e) == 0); /* no Dockerfile read */
	CHECK(dcfs_prebuild_key_compute(&d, base, b2, &k2, &e) == 0);
	CHECK_STR(k1.build_hash, b1);
	CHECK(strcmp(k1.key, k2.key) != 0);
	CHECK_STR(k1.config_hash, k2.config_hash);
	dcfs_error_clear(&e);
	cJSON_Delete(d.config);
}

int main(void)
{
	build_key();
	ordering_and_exclusions();
	base_digest();
	dockerfile();
	workspace_tree();
	return tap_done();
}
