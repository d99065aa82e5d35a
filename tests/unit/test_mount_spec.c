/* Docker's --mount strings: dcfs_mount_spec_parse, the one parser behind devcontainer.json's
 * `mounts` strings and `workspaceMount` (quoting, aliases, duplicate, missing and unknown keys). */
#include <stdlib.h>
#include <string.h>

#include "mount_spec.h"
#include "tap.h"

static void parsed(const char *text, const char *type, const char *source, const char *target,
		   bool ro)
{
	dcfs_mount_spec m;
	dcfs_error e = {0};
	int r = dcfs_mount_spec_parse(text, "mounts[0]", &m, &e);
	bool ok = r == 0 && tap_str_eq(m.type, type) && tap_str_eq(m.source, source) &&
		  tap_str_eq(m.target, target) && m.readonly == ro;
	if (!tap_result(ok, __FILE__, __LINE__, "'%s' parses", text))
		tap_diag("  r=%d type=%s source=%s target=%s ro=%d: %s", r,
			 r || !m.type ? "(null)" : m.type, r || !m.source ? "(null)" : m.source,
			 r || !m.target ? "(null)" : m.target, r ? 0 : m.readonly,
			 e.msg ? e.msg : "");
	if (r == 0)
		dcfs_mount_spec_free(&m);
	dcfs_error_clear(&e);
}

static void refused(const char *text, int code, const char *want)
{
	dcfs_mount_spec m;
	dcfs_error e = {0};
	int r = dcfs_mount_spec_parse(text, "mounts[0]", &m, &e);
	bool ok = r == code && e.msg && strstr(e.msg, want) &&
		  !m.type && !m.source && !m.target; /* nothing is left allocated */
	if (!tap_result(ok, __FILE__, __LINE__, "'%s' is refused with '%s'", text, want))
		tap_diag("  r=%d: %s", r, e.msg ? e.msg : "");
	dcfs_error_clear(&e);
}

static void plain(void)
{
	parsed("type=bind,source=/a,target=/b", "bind", "/a", "/b", false);
	parsed("source=/a,target=/b", NULL, "/a", "/b", false); /* type left to the caller */
	parsed("type=volume,target=/data", "volume", NULL, "/data", false);
	parsed("", NULL, NULL, NULL, false);
	/* the key order does not matter */
	parsed("target=/b,source=/a,type=bind", "bind", "/a", "/b", false);
	/* values keep '=' after the first one */
	parsed("type=bind,source=/a=b,target=/c", "bind", "/a=b", "/c", false);
	/* an empty value is a value */
	parsed("type=bind,source=,target=/b", "bind", "", "/b", false);
	/* empty fields (doubled or trailing commas) are skipped */
	parsed("type=bind,,source=/a,target=/b,", "bind", "/a", "/b", false);
	/* spaces are part of the text, as Docker has it */
	parsed("type=bind,source=/a b,target=/c d", "bind", "/a b", "/c d", false);
}

static void aliases(void)
{
	parsed("type=bind,src=/a,dst=/b", "bind", "/a", "/b", false);
	parsed("type=bind,src=/a,destination=/b", "bind", "/a", "/b", false);
	parsed("type=bind,source=/a,target=/b,consistency=cached", "bind", "/a", "/b", false);
	parsed("type=bind,source=/a,target=/b,consistency", "bind", "/a", "/b", false);
}

static void readonly(void)
{
	parsed("type=bind,source=/a,target=/b,readonly", "bind", "/a", "/b", true);
	parsed("type=bind,source=/a,target=/b,ro", "bind", "/a", "/b", true);
	parsed("type=bind,source=/a,target=/b,readonly=true", "bind", "/a", "/b", true);
	parsed("type=bind,source=/a,target=/b,readonly=1", "bind", "/a", "/b", true);
	parsed("type=bind,source=/a,target=/b,ro=false", "bind", "/a", "/b", false);
	parsed("type=bind,source=/a,target=/b,readonly=0", "bind", "/a", "/b", false);
	/* the last word wins */
	parsed("type=bind,source=/a,target=/b,ro,readonly=false", "bind", "/a", "/b", false);
	parsed("type=bind,source=/a,target=/b,ro=0,readonly", "bind", "/a", "/b", true);
}

static void quoting(void)
{
	/* CSV: a quoted field may hold commas; "" inside quotes is one quote */
	parsed("type=bind,\"source=/a,b\",target=/c", "bind", "/a,b", "/c", false);
	parsed("\"type=bind\",\"source=/x\"\"y\",\"target=/z\"", "bind", "/x\"y", "/z", false);
	parsed("type=bind,source=/a,\"target=/b,c\"", "bind", "/a", "/b,c", false);
	/* an unterminated quote runs to the end of the text */
	parsed("type=bind,target=/b,\"source=/a,c", "bind", "/a,c", "/b", false);
	/* a quote past the start of a field is an ordinary character
	 * (Docker's CSV reader would refuse the field) */
	parsed("type=bind,source=\"/a\",target=/b", "bind", "\"/a\"", "/b", false);
	/* a quoted key with its '=' still splits at the first '=' */
	parsed("\"src=/a=b\",dst=/c", NULL, "/a=b", "/c", false);
}

static void duplicates(void)
{
	/* a key given twice (under any of its names) keeps the last value, freeing the first */
	parsed("type=bind,source=/a,source=/b,target=/c", "bind", "/b", "/c", false);
	parsed("type=bind,src=/a,source=/b,dst=/c,target=/d", "bind", "/b", "/d", false);
	parsed("type=volume,type=bind,source=/a,target=/b", "bind", "/a", "/b", false);
}

static void refusals(void)
{
	refused("type=bind,source=/a,target=/b,bind-propagation=rshared", -EINVAL,
		"mounts[0]: unknown key 'bind-propagation' (type, source, target, readonly, "
		"consistency)");
	refused("type=bind,source=/a,target=/b,volume-opt=x=y", -EINVAL,
		"unknown key 'volume-opt'");
	refused("type=bind,Source=/a,target=/b", -EINVAL, "unknown key 'Source'");
	refused("=/a", -EINVAL, "unknown key ''");
	/* a key without its value */
	refused("type,source=/a,target=/b", -EINVAL, "mounts[0]: 'type' needs a value");
	refused("type=bind,source,target=/b", -EINVAL, "'source' needs a value");
	refused("type=bind,source=/a,dst", -EINVAL, "'dst' needs a value");
	/* an error after fields that were set frees them */
	refused("type=bind,source=/a,target=/b,nope=1", -EINVAL, "unknown key 'nope'");
}

static void overlong(void)
{
	size_t n = 1 << 20;
	char *big = malloc(n + 64);
	if (!big)
		abort();
	strcpy(big, "type=bind,target=/t,source=/");
	size_t at = strlen(big);
	memset(big + at, 'x', n);
	big[at + n] = 0;
	dcfs_mount_spec m;
	dcfs_error e = {0};
	CHECK_INT(dcfs_mount_spec_parse(big, "mounts[0]", &m, &e), 0);
	CHECK(m.source && strlen(m.source) == n + 1 && m.source[n] == 'x');
	dcfs_mount_spec_free(&m);
	CHECK(!m.type && !m.source && !m.target && !m.readonly);
	free(big);
}

int main(void)
{
	plain();
	aliases();
	readonly();
	quoting();
	duplicates();
	refusals();
	overlong();
	return tap_done();
}
