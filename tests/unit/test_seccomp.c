/* Seccomp and capabilities: the capability table (names, ALL, unknown ones), the container's
 * capability set as Docker computes it, securityOpt parsing, and the Docker-format profile ->
 * OCI linux.seccomp converter (includes/excludes by capability, architecture and kernel, errnoRet,
 * args), with the built-in default profile. */
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "capability.h"
#include "seccomp.h"
#include "security_opt.h"
#include "tap.h"

static char *print(const cJSON *j)
{
	return cJSON_PrintUnformatted(j);
}

static void check_printed(const cJSON *j, const char *want, int line)
{
	char *got = print(j);
	if (!tap_result(tap_str_eq(got, want), __FILE__, line, "%s", want))
		tap_diag("  got %s", got ? got : "(null)");
	free(got);
}
#define CHECK_JSON(j, want) check_printed((j), (want), __LINE__)

static void cap_names(void)
{
	CHECK_INT(dcfs_cap_number("chown"), 0);
	CHECK_INT(dcfs_cap_number("CAP_SYS_ADMIN"), 21);
	CHECK_INT(dcfs_cap_number("cap_sys_admin"), 21);
	CHECK_INT(dcfs_cap_number("Sys_Admin"), 21);
	CHECK_INT(dcfs_cap_number("CAP_CHECKPOINT_RESTORE"), 40);
	CHECK_INT(dcfs_cap_number("ALL"), -2);
	CHECK_INT(dcfs_cap_number("all"), -2);
	CHECK_INT(dcfs_cap_number("CAP_ALL"), -1);
	CHECK_INT(dcfs_cap_number("SYS_BOGUS"), -1);
	CHECK_INT(dcfs_cap_number("CAP_"), -1);
	CHECK_INT(dcfs_cap_number(""), -1);
	CHECK_STR(dcfs_cap_name(19), "CAP_SYS_PTRACE");
	CHECK_STR(dcfs_cap_name(41), NULL);
	CHECK_STR(dcfs_cap_name(-1), NULL);
}

/* The set for capAdd `add` and drops `drop` (JSON texts, NULL: none), printed. */
static char *resolve(const char *add, const char *drop, bool privileged, char **err)
{
	cJSON *a = add ? cJSON_Parse(add) : NULL, *d = drop ? cJSON_Parse(drop) : NULL, *out = NULL;
	dcfs_error e = {0};
	char *s = NULL;
	if (dcfs_caps_resolve(a, d, privileged, &out, &e) == 0)
		s = print(out);
	*err = e.msg ? strdup(e.msg) : NULL;
	dcfs_error_clear(&e);
	cJSON_Delete(a), cJSON_Delete(d), cJSON_Delete(out);
	return s;
}

#define DEFAULTS                                                                                   \
	"\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FSETID\",\"CAP_FOWNER\",\"CAP_MKNOD\","           \
	"\"CAP_NET_RAW\",\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETFCAP\",\"CAP_SETPCAP\","            \
	"\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_CHROOT\",\"CAP_KILL\",\"CAP_AUDIT_WRITE\""

static void check_set(const char *add, const char *drop, bool privileged, const char *want,
		      int line)
{
	char *err, *got = resolve(add, drop, privileged, &err);
	if (!tap_result(tap_str_eq(got, want), __FILE__, line, "add %s drop %s: %s", add, drop,
			want))
		tap_diag("  got %s (%s)", got ? got : "(null)", err ? err : "");
	free(got), free(err);
}

/* Every capability this process's bounding set holds, less `except` (a number; -1: none). */
static char *all_but(int except)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; dcfs_cap_name(i); i++)
		if (i != except && prctl(PR_CAPBSET_READ, (unsigned long)i, 0, 0, 0) == 1)
			cJSON_AddItemToArray(a, cJSON_CreateString(dcfs_cap_name(i)));
	char *s = print(a);
	cJSON_Delete(a);
	return s;
}

static void cap_sets(void)
{
	check_set(NULL, NULL, false, "[" DEFAULTS "]", __LINE__);
	check_set("[\"sys_ptrace\", \"CAP_SYS_PTRACE\", \"chown\"]", NULL, false,
		  "[" DEFAULTS ",\"CAP_SYS_PTRACE\"]", __LINE__);
	check_set("[\"NET_ADMIN\"]", "[\"ALL\"]", false, "[\"CAP_NET_ADMIN\"]", __LINE__);
	check_set(NULL, "[\"all\"]", false, "[]", __LINE__);
	check_set(NULL,
		  "[\"chown\", \"CAP_DAC_OVERRIDE\", \"fsetid\", \"fowner\", \"mknod\", \"net_raw\","
		  " \"setgid\", \"setuid\", \"setfcap\", \"setpcap\", \"net_bind_service\","
		  " \"sys_chroot\", \"audit_write\"]",
		  false, "[\"CAP_KILL\"]", __LINE__);
	char *all = all_but(-1), *no_raw = all_but(13);
	check_set("[\"ALL\"]", NULL, false, all, __LINE__);
	check_set("[\"all\"]", "[\"NET_RAW\"]", false, no_raw, __LINE__);
	check_set(NULL, "[\"NET_RAW\"]", true, all, __LINE__); /* privileged: all of them */
	free(all), free(no_raw);
	char *err, *got = resolve("[\"SYS_PTRACE\", \"SYS_BOGUS\"]", NULL, false, &err);
	CHECK(!got);
	CHECK_STR(err, "unknown capability 'SYS_BOGUS'");
	free(err);
	got = resolve(NULL, "[\"CAP_NOPE\"]", false, &err);
	CHECK(!got);
	CHECK_STR(err, "unknown capability 'CAP_NOPE'");
	free(err);
	got = resolve("[1]", NULL, false, &err);
	CHECK_STR(err, "expected capability names");
	free(err);
}

static void security_opts(void)
{
	dcfs_security s = {0};
	dcfs_error e = {0};
	cJSON *opts = cJSON_Parse("[\"no-new-privileges\", \"seccomp=/p.json\","
				  " \"no-new-privileges:false\", \"seccomp:unconfined\"]");
	CHECK_INT(dcfs_security_opts_apply(&s, opts, &e), 0);
	CHECK(!s.no_new_privileges && s.seccomp_unconfined && !s.seccomp_profile);
	CHECK_INT(dcfs_security_opt_apply(&s, "seccomp:/a:b.json", &e), 0);
	CHECK(!s.seccomp_unconfined);
	CHECK_STR(s.seccomp_profile, "/a:b.json");
	CHECK_INT(dcfs_security_opt_apply(&s, "no-new-privileges=true", &e), 0);
	CHECK(s.no_new_privileges);
	static const char *const refused[] = {"apparmor=unconfined", "label=disable", "seccomp",
					      "seccomp=", "no-new-privileges=1", "systempaths=unconfined"};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CHECK_INT(dcfs_security_opt_apply(&s, refused[i], &e), -ENOTSUP);
		char want[128];
		snprintf(want, sizeof(want), "unsupported security option '%s'", refused[i]);
		CHECK_STR(e.msg, want);
	}
	cJSON_Delete(opts);
	opts = cJSON_Parse("[\"no-new-privileges\", 3]");
	CHECK_INT(dcfs_security_opts_apply(&s, opts, &e), -EINVAL);
	CHECK_STR(e.msg, "expected an array of strings");
	cJSON_Delete(opts);
	dcfs_security_free(&s);
	dcfs_error_clear(&e);
}

/* A profile exercising every kind of condition (with ' for ", see convert). */
static const char profile_text[] =
	"{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1,"
	" 'flags': ['SECCOMP_FILTER_FLAG_LOG'],"
	" 'archMap': [{'architecture': 'SCMP_ARCH_AARCH64', 'subArchitectures': ['SCMP_ARCH_ARM']},"
	"  {'architecture': 'SCMP_ARCH_X86_64',"
	"   'subArchitectures': ['SCMP_ARCH_X86', 'SCMP_ARCH_X32']}],"
	" 'syscalls': ["
	"  {'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW', 'args': [], 'comment': '',"
	"   'includes': {}, 'excludes': {}},"
	"  {'names': ['arch_prctl'], 'action': 'SCMP_ACT_ALLOW',"
	"   'includes': {'arches': ['amd64', 'x32']}},"
	"  {'names': ['arm_fadvise64_64'], 'action': 'SCMP_ACT_ALLOW',"
	"   'includes': {'arches': ['arm', 'arm64']}},"
	"  {'names': ['not_on_arm'], 'action': 'SCMP_ACT_ALLOW', 'excludes': {'arches': ['arm64']}},"
	"  {'names': ['bpf'], 'action': 'SCMP_ACT_ALLOW',"
	"   'includes': {'caps': ['CAP_SYS_ADMIN', 'CAP_BPF']}},"
	"  {'names': ['bpf'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1,"
	"   'excludes': {'caps': ['CAP_SYS_ADMIN']}},"
	"  {'names': ['new_one'], 'action': 'SCMP_ACT_ALLOW', 'includes': {'minKernel': '5.8'}},"
	"  {'names': ['old_one'], 'action': 'SCMP_ACT_ALLOW', 'excludes': {'minKernel': '5.8'}},"
	"  {'name': 'personality', 'action': 'SCMP_ACT_ALLOW',"
	"   'args': [{'index': 0, 'value': 4294967295, 'valueTwo': 0, 'op': 'SCMP_CMP_EQ'}]}"
	" ]}";

/* Convert `text` (JSON, with ' for ") for the machine, kernel and capabilities (JSON). */
static char *convert(const char *text, const char *machine, const char *kernel, const char *caps,
		     char **err)
{
	char *json = strdup(text);
	for (char *q = json; (q = strchr(q, '\''));)
		*q = '"';
	cJSON *p = cJSON_Parse(json), *c = cJSON_Parse(caps), *out = NULL;
	free(json);
	dcfs_error e = {0};
	dcfs_seccomp_target t = {.machine = machine, .kernel = kernel, .caps = c};
	char *s = dcfs_seccomp_convert(p, &t, &out, &e) == 0 ? print(out) : NULL;
	*err = e.msg ? strdup(e.msg) : NULL;
	dcfs_error_clear(&e);
	cJSON_Delete(p), cJSON_Delete(c), cJSON_Delete(out);
	return s;
}

#define HEAD                                                                                       \
	"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"                               \
	"\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
#define RW "{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"}"
#define PERSONALITY                                                                                \
	"{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"         \
	"\"value\":4294967295,\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]}"

static void check_convert(const char *machine, const char *kernel, const char *caps,
			  const char *want, int line)
{
	char *err, *got = convert(profile_text, machine, kernel, caps, &err);
	if (!tap_result(tap_str_eq(got, want), __FILE__, line, "%s %s %s", machine, kernel, caps))
		tap_diag("  got %s (%s)", got ? got : "(null)", err ? err : "");
	free(got), free(err);
}

static void converter(void)
{
	check_convert("x86_64", "6.1.0-13-amd64", "[\"CAP_CHOWN\"]",
		      HEAD "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
			   "\"syscalls\":[" RW ","
			   "{\"names\":[\"arch_prctl\"],\"action\":\"SCMP_ACT_ALLOW\"},"
			   "{\"names\":[\"not_on_arm\"],\"action\":\"SCMP_ACT_ALLOW\"},"
			   "{\"names\":[\"bpf\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
			   "{\"names\":[\"new_one\"],\"action\":\"SCMP_ACT_ALLOW\"}," PERSONALITY "]}",
		      __LINE__);
	/* both capabilities included: allowed; one of them excluded: the refusal goes */
	check_convert("aarch64", "5.4.0", "[\"CAP_SYS_ADMIN\",\"CAP_BPF\"]",
		      HEAD "\"architectures\":[\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\"],"
			   "\"syscalls\":[" RW ","
			   "{\"names\":[\"arm_fadvise64_64\"],\"action\":\"SCMP_ACT_ALLOW\"},"
			   "{\"names\":[\"bpf\"],\"action\":\"SCMP_ACT_ALLOW\"},"
			   "{\"names\":[\"old_one\"],\"action\":\"SCMP_ACT_ALLOW\"}," PERSONALITY "]}",
		      __LINE__);
	/* only one of the two included capabilities: neither bpf rule */
	check_convert("x86_64", "5.8", "[\"CAP_SYS_ADMIN\"]",
		      HEAD "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
			   "\"syscalls\":[" RW ","
			   "{\"names\":[\"arch_prctl\"],\"action\":\"SCMP_ACT_ALLOW\"},"
			   "{\"names\":[\"not_on_arm\"],\"action\":\"SCMP_ACT_ALLOW\"},"
			   "{\"names\":[\"new_one\"],\"action\":\"SCMP_ACT_ALLOW\"}," PERSONALITY "]}",
		      __LINE__);
	/* a machine without an archMap entry: the runtime's native architecture */
	char *err, *got = convert("{'defaultAction': 'SCMP_ACT_ALLOW', 'archMap': [{'architecture':"
				  " 'SCMP_ARCH_X86_64'}], 'syscalls': [{'names': ['mkdir'],"
				  " 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 13}]}",
				  "sparc64", "6.1", "[]", &err);
	CHECK_STR(got, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
		       "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}");
	free(got), free(err);
	static const char *const bad[][2] = {
		{"[]", "expected a JSON object"},
		{"{\"syscalls\": []}", "expected \"defaultAction\""},
		{"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}",
		 "expected \"syscalls\" as an array"},
		{"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": \"SCMP_ACT_ALLOW\"}]}",
		 "syscalls[0]: expected \"names\", an array of syscall names"},
		{"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"a\"], \"action\":"
		 " \"SCMP_ACT_ALLOW\"}, {\"names\": [\"b\"], \"name\": \"c\", \"action\": \"SCMP_ACT_ALLOW\"}]}",
		 "syscalls[1]: expected \"names\", an array of syscall names"},
		{"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"a\"]}]}",
		 "syscalls[0]: expected \"action\""},
		{"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"a\"], \"action\":"
		 " \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"new\"}}]}",
		 "syscalls[0]: expected minKernel as \"MAJOR.MINOR\""},
		{"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"a\"], \"action\":"
		 " \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 18446744073709551615,"
		 " \"op\": \"SCMP_CMP_EQ\"}]}]}",
		 "syscalls[0]: expected args of {index, value, valueTwo, op} with integer values below 2^53"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		got = convert(bad[i][0], "x86_64", "6.1", "[]", &err);
		CHECK(!got);
		CHECK_STR(err, bad[i][1]);
		free(got), free(err);
	}
}

/* The rules of `oci` that name `syscall`, as "ACTION" strings joined by ' '. */
static void actions_of(const cJSON *oci, const char *syscall, char *out, size_t n)
{
	out[0] = '\0';
	const cJSON *rule, *name;
	cJSON_ArrayForEach(rule, cJSON_GetObjectItem(oci, "syscalls"))
	{
		const char *action = cJSON_GetStringValue(cJSON_GetObjectItem(rule, "action"));
		cJSON_ArrayForEach(name, cJSON_GetObjectItem(rule, "names"))
		{
			size_t len = strlen(out);
			if (!strcmp(name->valuestring, syscall))
				snprintf(out + len, n - len, "%s%s", len ? " " : "", action);
		}
	}
}

static void default_profile(void)
{
	cJSON *p = NULL, *oci = NULL;
	dcfs_error e = {0};
	CHECK_INT(dcfs_seccomp_load(NULL, &p, &e), 0);
	cJSON *caps = cJSON_Parse("[\"CAP_CHOWN\", \"CAP_SYS_CHROOT\"]");
	dcfs_seccomp_target t = {.machine = "x86_64", .kernel = "6.1.0", .caps = caps};
	CHECK_INT(dcfs_seccomp_convert(p, &t, &oci, &e), 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(oci, "defaultAction")), "SCMP_ACT_ERRNO");
	CHECK_JSON(cJSON_GetObjectItem(oci, "architectures"),
		   "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]");
	char acts[256];
	actions_of(oci, "read", acts, sizeof(acts));
	CHECK_STR(acts, "SCMP_ACT_ALLOW");
	actions_of(oci, "add_key", acts, sizeof(acts));
	CHECK_STR(acts, ""); /* the default action refuses it */
	actions_of(oci, "chroot", acts, sizeof(acts));
	CHECK_STR(acts, "SCMP_ACT_ALLOW");
	actions_of(oci, "open_by_handle_at", acts, sizeof(acts));
	CHECK_STR(acts, ""); /* only with CAP_DAC_READ_SEARCH */
	actions_of(oci, "unshare", acts, sizeof(acts));
	CHECK_STR(acts, ""); /* Docker's: only with CAP_SYS_ADMIN */
	actions_of(oci, "keyctl", acts, sizeof(acts));
	CHECK_STR(acts, "");
	CHECK(!cJSON_GetObjectItem(oci, "defaultErrnoRet")); /* runc's default: EPERM */
	actions_of(oci, "arch_prctl", acts, sizeof(acts));
	CHECK_STR(acts, "SCMP_ACT_ALLOW");
	actions_of(oci, "arm_fadvise64_64", acts, sizeof(acts));
	CHECK_STR(acts, "");
	cJSON_Delete(oci);
	cJSON_Delete(caps);
	caps = cJSON_Parse("[\"CAP_DAC_READ_SEARCH\", \"CAP_SYS_ADMIN\"]");
	t.caps = caps;
	CHECK_INT(dcfs_seccomp_convert(p, &t, &oci, &e), 0);
	actions_of(oci, "open_by_handle_at", acts, sizeof(acts));
	CHECK_STR(acts, "SCMP_ACT_ALLOW");
	actions_of(oci, "unshare", acts, sizeof(acts));
	CHECK_STR(acts, "SCMP_ACT_ALLOW");
	actions_of(oci, "chroot", acts, sizeof(acts));
	CHECK_STR(acts, "");
	cJSON_Delete(oci), cJSON_Delete(caps), cJSON_Delete(p);
	oci = NULL;
	CHECK_INT(dcfs_seccomp_for("/nonexistent/profile.json", NULL, &oci, &e), -ENOENT);
	CHECK_STR(e.msg, "seccomp profile: cannot open '/nonexistent/profile.json': No such file or "
			 "directory");
	CHECK(!oci);
	dcfs_error_clear(&e);
}

int main(void)
{
	cap_names();
	cap_sets();
	security_opts();
	converter();
	default_profile();
	return tap_done();
}
