/* The registry client's URL policy: which URLs may be fetched, and which may get credentials. */
#include <string.h>

#include "registry_url.h"
#include "tap.h"

static void allowed(const char *url, bool insecure)
{
	dcfs_error e = {0};
	int r = registry_url_check(url, insecure, &e);
	if (!tap_result(r == 0, __FILE__, __LINE__, "%s%s may be fetched", url,
			insecure ? " (--insecure)" : ""))
		tap_diag("  %s", e.msg ? e.msg : "(no message)");
	dcfs_error_clear(&e);
}

static void refused(const char *url, bool insecure, const char *reason)
{
	dcfs_error e = {0};
	int r = registry_url_check(url, insecure, &e);
	bool ok = r == -EPERM && e.msg && strstr(e.msg, url) && strstr(e.msg, reason);
	if (!tap_result(ok, __FILE__, __LINE__, "%s%s is refused (%s)", url,
			insecure ? " (--insecure)" : "", reason))
		tap_diag("  r=%d: %s", r, e.msg ? e.msg : "(no message)");
	dcfs_error_clear(&e);
}

static void credentials(const char *url, const char *registry, bool want)
{
	tap_result(registry_url_may_get_credentials(url, registry) == want, __FILE__, __LINE__,
		   "%s %s the credentials of %s", url, want ? "gets" : "does not get", registry);
}

int main(void)
{
	allowed("https://registry.example/v2/", false);
	allowed("HTTPS://auth.example/token?service=x", false);
	allowed("http://127.0.0.1:5000/v2/", false);
	allowed("http://127.0.0.2:8080/token", false);
	allowed("http://localhost:5000/v2/", false);
	allowed("http://[::1]:5000/v2/", false);
	allowed("http://registry.lan:5000/v2/", true);

	refused("http://registry.example/v2/", false, "plain http");
	refused("http://128.0.0.1/token", false, "plain http");
	refused("http://localhost.example.com/token", false, "plain http");
	refused("gopher://127.0.0.1:70/x", false, "not gopher");
	refused("gopher://127.0.0.1:70/x", true, "not gopher");
	refused("dict://127.0.0.1:2628/d:x", false, "not dict");
	refused("file:///etc/passwd", false, "not file");
	refused("file:///etc/passwd", true, "not file");
	refused("ftp://127.0.0.1/x", true, "not ftp");
	refused("not a url", false, "");

	credentials("http://127.0.0.1:5000/token", "http://127.0.0.1:5000/", true);
	credentials("https://auth.example/token", "https://registry.example/", true);
	credentials("https://auth.example/token", "http://127.0.0.1:5000/", true);
	credentials("http://127.0.0.2:5000/token", "http://127.0.0.1:5000/", false);
	credentials("http://127.0.0.1:5001/token", "http://127.0.0.1:5000/", false);
	credentials("http://auth.lan/token", "http://registry.lan/", false);
	credentials("http://registry.lan:80/token", "http://registry.lan/", true);
	credentials("file:///etc/passwd", "http://127.0.0.1:5000/", false);
	return tap_done();
}
