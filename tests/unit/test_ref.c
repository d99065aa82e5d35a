/* Image references: dcfs_ref_parse and the short name dcfs_ref_name gives the store. */
#include <stdlib.h>
#include <string.h>

#include "ref.h"
#include "tap.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void parses(const char *text, const char *registry, const char *repository, const char *tag,
		   const char *digest, const char *name)
{
	dcfs_ref r;
	dcfs_error e = {0};
	int rc = dcfs_ref_parse(text, &r, &e);
	if (!tap_result(rc == 0, __FILE__, __LINE__, "parse '%s'", text)) {
		tap_diag("  rc=%d: %s", rc, e.msg ? e.msg : "(no message)");
		dcfs_error_clear(&e);
		return;
	}
	bool ok = tap_str_eq(r.registry, registry) && tap_str_eq(r.repository, repository) &&
		  tap_str_eq(r.tag, tag) && tap_str_eq(r.digest, digest);
	if (!tap_result(ok, __FILE__, __LINE__, "'%s' has registry %s, repository %s, tag %s, digest %s",
			text, registry ? registry : "(hub)", repository, tag ? tag : "(none)",
			digest ? "sha256:..." : "(none)"))
		tap_diag("  got registry=%s repository=%s tag=%s digest=%s",
			 r.registry ? r.registry : "(null)", r.repository ? r.repository : "(null)",
			 r.tag ? r.tag : "(null)", r.digest ? r.digest : "(null)");
	char *n = dcfs_ref_name(&r);
	if (!tap_result(tap_str_eq(n, name), __FILE__, __LINE__, "name of '%s' is '%s'", text, name))
		tap_diag("  got '%s'", n ? n : "(null)");
	/* The short name parses back to the same name. */
	dcfs_ref again;
	if (n && dcfs_ref_parse(n, &again, NULL) == 0) {
		char *n2 = dcfs_ref_name(&again);
		tap_result(tap_str_eq(n2, n), __FILE__, __LINE__, "name '%s' is a fixed point", n);
		free(n2);
		dcfs_ref_free(&again);
	} else {
		tap_result(false, __FILE__, __LINE__, "name '%s' parses again", n ? n : "(null)");
	}
	free(n);
	dcfs_ref_free(&r);
	CHECK(r.registry == NULL && r.repository == NULL && r.tag == NULL && r.digest == NULL);
	dcfs_error_clear(&e);
}

static void refuses(const char *text)
{
	dcfs_ref r;
	dcfs_error e = {0};
	int rc = dcfs_ref_parse(text, &r, &e);
	bool ok = rc == -EINVAL && e.code == EINVAL && e.msg && strstr(e.msg, text) != NULL;
	/* Nothing is left allocated on failure. */
	ok = ok && r.registry == NULL && r.repository == NULL && r.tag == NULL && r.digest == NULL;
	if (!tap_result(ok, __FILE__, __LINE__, "'%s' refused with -EINVAL naming it", text))
		tap_diag("  rc=%d msg=%s", rc, e.msg ? e.msg : "(null)");
	if (rc == 0)
		dcfs_ref_free(&r);
	dcfs_error_clear(&e);
}

int main(void)
{
	parses("busybox", NULL, "library/busybox", "latest", NULL, "busybox:latest");
	parses("busybox:1.36", NULL, "library/busybox", "1.36", NULL, "busybox:1.36");
	parses("library/busybox:latest", NULL, "library/busybox", "latest", NULL, "busybox:latest");
	parses("docker.io/library/x:1", "docker.io", "library/x", "1", NULL, "x:1");
	parses("docker.io/myorg/tool", "docker.io", "myorg/tool", "latest", NULL, "myorg/tool:latest");
	parses("user/app:v2", NULL, "user/app", "v2", NULL, "user/app:v2");
	parses("localhost:5000/a/b", "localhost:5000", "a/b", "latest", NULL,
	       "localhost:5000/a/b:latest");
	parses("localhost/a", "localhost", "a", "latest", NULL, "localhost/a:latest");
	parses("ghcr.io/o/r:tag", "ghcr.io", "o/r", "tag", NULL, "ghcr.io/o/r:tag");
	parses("mcr.microsoft.com/devcontainers/base:bookworm", "mcr.microsoft.com",
	       "devcontainers/base", "bookworm", NULL, "mcr.microsoft.com/devcontainers/base:bookworm");
	parses("name@sha256:" D64, NULL, "library/name", NULL, "sha256:" D64, "name@sha256:" D64);
	parses("ghcr.io/o/r:1.0@sha256:" D64, "ghcr.io", "o/r", "1.0", "sha256:" D64,
	       "ghcr.io/o/r:1.0@sha256:" D64);
	parses("org/a-b__c.d_e--f:Tag_1.x-Y", NULL, "org/a-b__c.d_e--f", "Tag_1.x-Y", NULL,
	       "org/a-b__c.d_e--f:Tag_1.x-Y");
	/* A first component with a '.' is a registry host, as in Docker. */
	parses("a.b/c", "a.b", "c", "latest", NULL, "a.b/c:latest");
	parses("busybox:_x", NULL, "library/busybox", "_x", NULL, "busybox:_x");
	/* Docker Hub spelled out without library/ is still the official image. */
	parses("docker.io/busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest");

	refuses("Busybox");          /* uppercase name */
	refuses("library/BusyBox");  /* uppercase path component */
	refuses("");                 /* empty */
	refuses("busybox:");         /* empty tag */
	refuses("busybox:-x");       /* tag starts with '-' */
	refuses("busybox:a/b");      /* "busybox:a" is no host: a port is digits */
	refuses("busybox:a b");      /* space in a tag */
	refuses("busybox@sha256:abc");                     /* short digest */
	refuses("busybox@sha512:" D64);                    /* other algorithm */
	refuses("busybox@sha256:" D64 "0");                /* long digest */
	refuses("busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef");
	refuses("busybox@");         /* empty digest */
	refuses("busybox/");         /* trailing '/' */
	refuses("/busybox");         /* leading '/' */
	refuses("a//b");             /* empty component */
	refuses("--");               /* not alphanumeric at the ends */
	refuses("-a");
	refuses("a-");
	refuses("a..b");             /* '.' must separate alphanumerics */
	refuses("a___b");            /* at most two '_' */
	refuses("ghcr.io/");         /* a registry without a path */
	refuses(":tag");             /* a tag without a name */
	/* 256 characters: too long */
	char longname[300];
	memset(longname, 'a', 256);
	longname[256] = '\0';
	refuses(longname);
	char longtag[200];
	memcpy(longtag, "a:", 2);
	memset(longtag + 2, 't', 129);
	longtag[131] = '\0';
	refuses(longtag); /* tags are at most 128 characters */

	/* Parsing with no error object does not crash. */
	dcfs_ref r;
	CHECK(dcfs_ref_parse("BAD", &r, NULL) == -EINVAL);
	return tap_done();
}
