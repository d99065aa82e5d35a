/* Docker's --mount strings: dcfs_mount_spec_parse, the one parser behind devcontainer.json's
 * `mounts` strings and `workspaceMount` (quoting, aliases, duplicate, missing and unknown keys). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "mount_spec.h"
#include "tap.h"

/* text, then what it parses into: "TYPE|SOURCE|TARGET|ro or rw", "-" for a missing field */
static const struct {
	const char *text, *want;
} parses[] = {
	{"type=bind,source=/a,target=/b", "bind|/a|/b|rw"},
	{"source=/a,target=/b", "-|/a|/b|rw"}, /* type left to the caller */
	{"type=volume,target=/data", "volume|-|/data|rw"},
	{"", "-|-|-|rw"},
	/* the key order does not matter */
	{"target=/b,source=/a,type=bind", "bind|/a|/b|rw"},
	/* values keep '=' after the first one */
	{"type=bind,source=/a=b,target=/c", "bind|/a=b|/c|rw"},
	/* an empty value is a value */
	{"type=bind,source=,target=/b", "bind||/b|rw"},
	/* empty fields (doubled or trailing commas) are skipped */
	{"type=bind,,source=/a,target=/b,", "bind|/a|/b|rw"},
	/* spaces are part of the text, as Docker has it */
	{"type=bind,source=/a b,target=/c d", "bind|/a b|/c d|rw"},
	/* the other names of source and target; consistency is taken and ignored */
	{"type=bind,src=/a,dst=/b", "bind|/a|/b|rw"},
	{"type=bind,src=/a,destination=/b", "bind|/a|/b|rw"},
	{"type=bind,source=/a,target=/b,consistency=cached", "bind|/a|/b|rw"},
	{"type=bind,source=/a,target=/b,consistency", "bind|/a|/b|rw"},
	/* readonly and ro, alone or with a value: only false and 0 say no */
	{"type=bind,source=/a,target=/b,readonly", "bind|/a|/b|ro"},
	{"type=bind,source=/a,target=/b,ro", "bind|/a|/b|ro"},
	{"type=bind,source=/a,target=/b,readonly=true", "bind|/a|/b|ro"},
	{"type=bind,source=/a,target=/b,readonly=1", "bind|/a|/b|ro"},
	{"type=bind,source=/a,target=/b,ro=false", "bind|/a|/b|rw"},
	{"type=bind,source=/a,target=/b,readonly=0", "bind|/a|/b|rw"},
	/* the last word wins */
	{"type=bind,source=/a,target=/b,ro,readonly=false", "bind|/a|/b|rw"},
	{"type=bind,source=/a,target=/b,ro=0,readonly", "bind|/a|/b|ro"},
	/* CSV: a quoted field may hold commas; "" inside quotes is one quote */
	{"type=bind,\"source=/a,b\",target=/c", "bind|/a,b|/c|rw"},
	{"\"type=bind\",\"source=/x\"\"y\",\"target=/z\"", "bind|/x\"y|/z|rw"},
	{"type=bind,source=/a,\"target=/b,c\"", "bind|/a|/b,c|rw"},
	/* an unterminated quote runs to the end of the text */
	{"type=bind,target=/b,\"source=/a,c", "bind|/a,c|/b|rw"},
	/* a quote past the start of a field is an ordinary character (Docker's CSV reader
	 * would refuse the field) */
	{"type=bind,source=\"/a\",target=/b", "bind|\"/a\"|/b|rw"},
	/* a quoted key with its '=' still splits at the first '=' */
	{"\"src=/a=b\",dst=/c", "-|/a=b|/c|rw"},
	/* a key given twice (under any of its names) keeps the last value, freeing the first */
	{"type=bind,source=/a,source=/b,target=/c", "bind|/b|/c|rw"},
	{"type=bind,src=/a,source=/b,dst=/c,target=/d", "bind|/b|/d|rw"},
	{"type=volume,type=bind,source=/a,target=/b", "bind|/a|/b|rw"},
};

/* text, then what the message says (all fail with -EINVAL and leave nothing allocated) */
static const struct {
	const char *text, *want;
} refusals[] = {
	{"type=bind,source=/a,target=/b,bind-propagation=rshared",
	 "mounts[0]: unknown key 'bind-propagation' (type, source, target, readonly, consistency)"},
	{"type=bind,source=/a,target=/b,volume-opt=x=y", "unknown key 'volume-opt'"},
	{"type=bind,Source=/a,target=/b", "unknown key 'Source'"},
	{"=/a", "unknown key ''"},
	/* a key without its value */
	{"type,source=/a,target=/b", "mounts[0]: 'type' needs a value"},
	{"type=bind,source,target=/b", "'source' needs a value"},
	{"type=bind,source=/a,dst", "'dst' needs a value"},
	/* an error after fields that were set frees them */
	{"type=bind,source=/a,target=/b,nope=1", "unknown key 'nope'"},
};

/* The parsed spec as "TYPE|SOURCE|TARGET|ro or rw" (malloc'd), or "error: MESSAGE". */
static char *parse_to_text(const char *text)
{
	dcfs_mount_spec m;
	_cleanup_error_ dcfs_error e = {0};
	char *out = NULL;
	int k;
	if (dcfs_mount_spec_parse(text, "mounts[0]", &m, &e) < 0)
		k = asprintf(&out, "error: %s", e.msg);
	else
		k = asprintf(&out, "%s|%s|%s|%s", m.type ? m.type : "-", m.source ? m.source : "-",
			     m.target ? m.target : "-", m.readonly ? "ro" : "rw");
	dcfs_mount_spec_free(&m);
	if (k < 0)
		abort();
	return out;
}

static void table(void)
{
	for (size_t i = 0; i < sizeof(parses) / sizeof(parses[0]); i++) {
		_cleanup_free_ char *got = parse_to_text(parses[i].text);
		if (!tap_result(!strcmp(got, parses[i].want), __FILE__, __LINE__, "'%s' is %s",
				parses[i].text, parses[i].want))
			tap_diag("  got %s", got);
	}
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		dcfs_mount_spec m;
		_cleanup_error_ dcfs_error e = {0};
		const char *text = refusals[i].text, *want = refusals[i].want;
		int r = dcfs_mount_spec_parse(text, "mounts[0]", &m, &e);
		/* and nothing is left allocated */
		bool ok = r == -EINVAL && e.msg && strstr(e.msg, want) && !m.type && !m.source &&
			  !m.target;
		if (!tap_result(ok, __FILE__, __LINE__, "'%s' is refused with '%s'", text, want))
			tap_diag("  r=%d: %s", r, e.msg ? e.msg : "");
	}
}

static void overlong(void)
{
	size_t n = 1 << 20;
	char *big = tap_filled("type=bind,target=/t,source=/", 'x', n, "");
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
	table();
	overlong();
	return tap_done();
}
