/* userEnvProbe's pure parts: the modes' shell flags, the probe's output parsed (markers, a
 * shell's banner, PWD, printenv's lines), the PATH merge against values computed with the
 * reference CLI's own function, and remoteEnv set over the probed environment. */
#include <stdlib.h>
#include <string.h>

#include "jsonc.h"
#include "tap.h"
#include "user_env_probe.h"

#define M "0123456789abcdef0123456789abcdef"

static void modes(void)
{
	CHECK_STR(dcfs_user_env_probe_flags(NULL), "-lic");
	CHECK_STR(dcfs_user_env_probe_flags("loginInteractiveShell"), "-lic");
	CHECK_STR(dcfs_user_env_probe_flags("loginShell"), "-lc");
	CHECK_STR(dcfs_user_env_probe_flags("interactiveShell"), "-ic");
	CHECK(dcfs_user_env_probe_flags("none") == NULL);
	CHECK(dcfs_user_env_probe_known("none"));
	CHECK(!dcfs_user_env_probe_known("loginshell"));
	CHECK(!dcfs_user_env_probe_known(NULL));
	CHECK(dcfs_user_env_probe_flags("bogus") == NULL);
}

/* The parsed environment as one string, entries joined by '|', newlines shown as "\\n" (""
 * when NULL). */
static char *joined(cJSON *env)
{
	static char buf[4096];
	buf[0] = '\0';
	const cJSON *it;
	cJSON_ArrayForEach(it, env)
	{
		if (buf[0])
			strcat(buf, "|");
		for (const char *p = it->valuestring; *p; p++)
			strcat(buf, *p == '\n' ? "\\n" : (char[2]){*p, 0});
	}
	cJSON_Delete(env);
	return buf;
}

static cJSON *parse(const char *out, size_t len, char sep)
{
	return dcfs_user_env_parse(out, len, M, sep);
}

#define LIT(s) s, sizeof(s) - 1

static void parsing(void)
{
	/* cat /proc/self/environ between the markers, noise around them */
	CHECK_STR(joined(parse(LIT("motd\n" M "A=1\0PATH=/bin:/usr/bin\0PWD=/w\0B=x=y\0" M "bye"),
			       '\0')),
		  "A=1|PATH=/bin:/usr/bin|B=x=y");
	/* busybox ash -ic prints its banner after the first marker: a name holds no newline */
	CHECK_STR(joined(parse(LIT(M "\n\nBusyBox v1.35.0 built-in shell (ash)\nEnter 'help'.\n\n"
				     "SHLVL=1\0HOME=/root\0" M),
			       '\0')),
		  "SHLVL=1|HOME=/root");
	/* values keep their newlines; entries without '=' and empty names are dropped */
	CHECK_STR(joined(parse(LIT(M "X=a\nb\0junk\0=v\0Y=\0" M), '\0')), "X=a\\nb|Y=");
	/* the last of a name wins; printenv's lines */
	CHECK_STR(joined(parse(LIT(M "A=1\nB=2\nA=3\n" M), '\n')), "A=3|B=2");
	/* the marker printed inside the output: the first and the last delimit */
	CHECK_STR(joined(parse(LIT(M "A=" M "\0" M), '\0')), "A=" M);
	/* nothing usable */
	CHECK(parse(LIT("A=1\0B=2\0"), '\0') == NULL);
	CHECK(parse(LIT(M "A=1\0B=2\0"), '\0') == NULL);
	CHECK(parse(LIT(M M), '\0') == NULL);
	CHECK(parse(LIT(M "PWD=/x\0" M), '\0') == NULL);
	CHECK(parse(LIT(""), '\0') == NULL);
}

static void merge(const char *probed, const char *container, bool root, const char *expect)
{
	char *got = dcfs_user_env_merge_path(probed, container, root);
	CHECK_STR(got, expect);
	free(got);
}

/* Expected values from the reference CLI's merge (function U_ of @devcontainers/cli's
 * dist/spec-node/devContainersSpecCLI.js), run with node. */
static void path_merge(void)
{
	const char *c = "/opt/x/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	merge("/usr/local/bin:/usr/bin:/bin", c, false, "/opt/x/bin:/usr/local/bin:/usr/bin:/bin");
	merge("/usr/local/bin:/usr/bin:/bin", c, true,
	      "/opt/x/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	merge("/home/u/.local/bin:/usr/bin:/bin:/usr/games",
	      "/usr/local/bin:/usr/bin:/extra:/bin:/sbinx", false,
	      "/usr/local/bin:/home/u/.local/bin:/usr/bin:/extra:/bin:/sbinx:/usr/games");
	merge("/a:/b", "/b:/c:/a:/d", false, "/a:/d:/b:/c");
	merge("/a", "/a", false, "/a");
	merge("", "/x/sbin/y:/z", false, "/z:");
}

static void apply(void)
{
	cJSON *base = cJSON_CreateArray();
	cJSON_AddItemToArray(base, cJSON_CreateString("PATH=/usr/bin"));
	cJSON_AddItemToArray(base, cJSON_CreateString("PROBED=1"));
	cJSON *over = cJSON_CreateArray();
	cJSON_AddItemToArray(over, cJSON_CreateString("PROBED=from remoteEnv"));
	cJSON_AddItemToArray(over, cJSON_CreateString("NEW=a=b"));
	CHECK_STR(joined(dcfs_user_env_apply(base, over)),
		  "PATH=/usr/bin|PROBED=from remoteEnv|NEW=a=b");
	CHECK_STR(joined(dcfs_user_env_apply(NULL, over)), "PROBED=from remoteEnv|NEW=a=b");
	CHECK_STR(joined(dcfs_user_env_apply(base, NULL)), "PATH=/usr/bin|PROBED=1");
	cJSON_Delete(base);
	cJSON_Delete(over);
}

int main(void)
{
	modes();
	parsing();
	path_merge();
	apply();
	return tap_done();
}
