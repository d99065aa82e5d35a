/* runArgs: dcfs_run_args_apply folds docker run flags into the configuration and refuses the
 * rest by name. */
#include <stdlib.h>
#include <string.h>

#include "run_args.h"
#include "tap.h"

static cJSON *config_with(const char *run_args_json)
{
	char *text = NULL;
	if (asprintf(&text, "{\"containerEnv\": {\"A\": \"old\"}, \"runArgs\": %s}", run_args_json) < 0)
		return NULL;
	cJSON *c = cJSON_Parse(text);
	free(text);
	return c;
}

static char *get_json(const cJSON *c, const char *key)
{
	return cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(c, key));
}

static void check_json(const cJSON *c, const char *key, const char *want)
{
	char *got = get_json(c, key);
	if (!tap_result(tap_str_eq(got, want), __FILE__, __LINE__, "%s is %s", key, want))
		tap_diag("  got %s", got ? got : "(null)");
	free(got);
}

static void accepted(void)
{
	cJSON *c = config_with(
		"[\"-e\", \"A=1\", \"--env=B=x=y\", \"-eC=3\", \"-v\", \"/h:/c:ro\", \"--volume=v:/w\","
		" \"--mount\", \"type=volume,source=m,target=/m\", \"--cap-add=SYS_PTRACE\","
		" \"--cap-drop\", \"cap_chown\", \"--cap-drop=ALL\","
		" \"--security-opt\", \"seccomp=unconfined\", \"--security-opt=no-new-privileges:true\","
		" \"--privileged\", \"--init=true\", \"--name\", \"n\", \"-h\", \"hh\", \"--net=host\","
		" \"--network\", \"host\", \"-u\", \"1000:1000\", \"--workdir=/src\","
		" \"--add-host\", \"a:1.2.3.4\", \"--add-host=b=::1\"]");
	dcfs_run_args a = {0};
	dcfs_error e = {0};
	int r = dcfs_run_args_apply(c, "dc.json", &a, &e);
	if (!tap_result(r == 0, __FILE__, __LINE__, "the common flags are accepted"))
		tap_diag("  %d: %s", r, e.msg ? e.msg : "");
	check_json(c, "containerEnv", "{\"A\":\"1\",\"B\":\"x=y\",\"C\":\"3\"}");
	check_json(c, "mounts",
		   "[{\"type\":\"bind\",\"source\":\"/h\",\"target\":\"/c\",\"readonly\":true},"
		   "{\"type\":\"volume\",\"source\":\"v\",\"target\":\"/w\"},"
		   "\"type=volume,source=m,target=/m\"]");
	check_json(c, "capAdd", "[\"SYS_PTRACE\"]");
	check_json(c, "securityOpt", "[\"seccomp=unconfined\",\"no-new-privileges:true\"]");
	check_json(c, "privileged", "true");
	check_json(c, "init", "true");
	check_json(c, "containerUser", "\"1000:1000\"");
	CHECK_STR(a.name, "n");
	CHECK_STR(a.hostname, "hh");
	CHECK_STR(a.workdir, "/src");
	char *hosts = cJSON_PrintUnformatted(a.add_hosts);
	CHECK_STR(hosts, "[\"1.2.3.4\\ta\",\"::1\\tb\"]");
	free(hosts);
	char *drop = cJSON_PrintUnformatted(a.cap_drop);
	CHECK_STR(drop, "[\"cap_chown\",\"ALL\"]");
	free(drop);
	dcfs_run_args_free(&a);
	dcfs_error_clear(&e);
	cJSON_Delete(c);
}

static void refused(const char *args, const char *msg)
{
	cJSON *c = config_with(args);
	dcfs_run_args a = {0};
	dcfs_error e = {0};
	int r = dcfs_run_args_apply(c, "dc.json", &a, &e);
	tap_result(r < 0, __FILE__, __LINE__, "%s is refused", args);
	if (!tap_result(tap_str_eq(e.msg, msg), __FILE__, __LINE__, "  with '%s'", msg))
		tap_diag("  got '%s'", e.msg ? e.msg : "(null)");
	dcfs_run_args_free(&a);
	dcfs_error_clear(&e);
	cJSON_Delete(c);
}

int main(void)
{
	accepted();
	refused("[\"--gpus\", \"all\"]", "runArgs: unsupported docker run flag '--gpus' in dc.json");
	refused("[\"--gpus=all\"]", "runArgs: unsupported docker run flag '--gpus' in dc.json");
	refused("[\"-it\"]", "runArgs: unsupported docker run flag '-it' in dc.json");
	refused("[\"--net=none\"]",
		"runArgs: only the host network is supported, not '--net none' in dc.json");
	refused("[\"--user\"]", "runArgs: '--user' needs a value in dc.json");
	refused("[\"-v\", \"/a\"]", "runArgs: expected SRC:DST[:ro] in '-v /a' in dc.json");
	refused("[\"--privileged=maybe\"]",
		"runArgs: expected true or false after '--privileged maybe' in dc.json");
	refused("{}", "runArgs: expected an array in dc.json");
	refused("[\"--cap-add\", \"SYS_BOGUS\"]",
		"runArgs: unknown capability '--cap-add SYS_BOGUS' in dc.json");
	refused("[\"--cap-drop=CAP_NOPE\"]",
		"runArgs: unknown capability '--cap-drop CAP_NOPE' in dc.json");
	refused("[\"--security-opt\", \"apparmor=unconfined\"]",
		"runArgs: --security-opt in dc.json: unsupported security option "
		"'apparmor=unconfined'");
	refused("[\"--security-opt=no-new-privileges=maybe\"]",
		"runArgs: --security-opt in dc.json: unsupported security option "
		"'no-new-privileges=maybe'");
	refused("[\"--security-opt\", \"seccomp=\"]",
		"runArgs: --security-opt in dc.json: unsupported security option 'seccomp='");
	return tap_done();
}
