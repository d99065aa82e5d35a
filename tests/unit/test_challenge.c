/* The parameters of a registry's WWW-Authenticate challenge (`Bearer realm="...",service=...`):
 * registry_challenge_param, with quoting, missing values, duplicate, unknown and overlong keys. */
#include <stdlib.h>
#include <string.h>

#include "registry_internal.h"
#include "tap.h"

#define HUB                                                                                        \
	"realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","                   \
	"scope=\"repository:library/debian:pull\""

/* params, then the value of realm, service and scope found in them (NULL: absent) */
static const struct {
	const char *params, *realm, *service, *scope;
} cases[] = {
	{HUB, "https://auth.docker.io/token", "registry.docker.io", "repository:library/debian:pull"},
	/* keys match in any case; values keep theirs */
	{"Realm=\"https://A/t\"", "https://A/t", NULL, NULL},
	{"REALM=\"x\",SCOPE=y", "x", NULL, "y"},
	/* unquoted values run to the next comma */
	{"realm=https://a/t,service=reg", "https://a/t", "reg", NULL},
	/* quoted values may hold commas, '=' and spaces */
	{"scope=\"repository:a:pull,push\",realm=\"r\"", "r", NULL, "repository:a:pull,push"},
	{"service=\"a=b, c\",realm=r", "r", "a=b, c", NULL},
	/* an unquoted value holding '=' does not start a key */
	{"service=realm=x,realm=y", "y", "realm=x", NULL},
	/* spaces and extra commas between parameters */
	{"realm=\"a\", service=\"b\"", "a", "b", NULL},
	{" ,, realm=\"a\" ,,service=b", "a", "b", NULL},
	/* missing */
	{"", NULL, NULL, NULL},
	{"service=\"s\"", NULL, "s", NULL},
	/* a key that starts like another is not it */
	{"realmx=\"a\",realm=\"b\",xscope=c", "b", NULL, NULL},
	{"rea=\"a\"", NULL, NULL, NULL},
	/* empty values */
	{"realm=", "", NULL, NULL},
	{"realm=\"\",scope=", "", NULL, ""},
	{"realm=,service=s", "", "s", NULL},
	/* an unterminated quote runs to the end */
	{"realm=\"https://a/t", "https://a/t", NULL, NULL},
	{"realm=\"https://a/t,service=s", "https://a/t,service=s", NULL, NULL},
	/* duplicate keys: the first wins */
	{"realm=\"first\",realm=\"second\"", "first", NULL, NULL},
	{"realm=first,REALM=second,scope=1,scope=2", "first", NULL, "1"},
	/* unknown parameters are skipped, quoted or not */
	{"error=\"insufficient_scope\",realm=\"r\"", "r", NULL, NULL},
	{"x-custom=1,realm=r,other=\"q,q\",service=s", "r", "s", NULL},
	/* a quoted-pair inside quotes (RFC 7230): the backslash quotes the quote */
	{"realm=\"a\\\"b\",service=s", "a\"b", "s", NULL},
	/* a text with no '=' at all */
	{"realm", NULL, NULL, NULL},
};

static void expect(const char *params, const char *key, const char *want)
{
	char *got = registry_challenge_param(params, key);
	if (!tap_result(tap_str_eq(got, want), __FILE__, __LINE__, "%s in '%s' is %s%s%s", key,
			params, want ? "\"" : "", want ? want : "absent", want ? "\"" : ""))
		tap_diag("  got %s%s%s", got ? "\"" : "", got ? got : "NULL", got ? "\"" : "");
	free(got);
}

static void table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect(cases[i].params, "realm", cases[i].realm);
		expect(cases[i].params, "service", cases[i].service);
		expect(cases[i].params, "scope", cases[i].scope);
	}
	expect(HUB, "error", NULL);
}

static void spacing_and_bare_parameters(void)
{
	/* RFC 7235 allows spaces around '=' (BWS) and a parameter without a value before the
	 * others. */
	char *got = registry_challenge_param("realm = \"r\"", "realm");
	CHECK(tap_str_eq(got, "r"));
	free(got);
	got = registry_challenge_param("flag,realm=\"r\"", "realm");
	CHECK(tap_str_eq(got, "r"));
	free(got);
}

static void overlong(void)
{
	size_t n = 1 << 20;
	char *text = tap_filled("service=s,realm=\"", 'r', n, "\",scope=x");
	char *got = registry_challenge_param(text, "realm");
	CHECK(got && strlen(got) == n && got[0] == 'r' && got[n - 1] == 'r');
	free(got);
	got = registry_challenge_param(text, "scope");
	CHECK_STR(got, "x");
	free(got);
	free(text);
	/* a key as long as the text */
	text = tap_filled("", 'k', n, "=v");
	got = registry_challenge_param(text, "realm");
	CHECK(got == NULL);
	free(got);
	free(text);
}

int main(void)
{
	table();
	spacing_and_bare_parameters();
	overlong();
	return tap_done();
}
