/* appPort entries as port mappings: dcfs_port_map_parse and dcfs_app_port_forwards. */
#include <stdlib.h>
#include <string.h>

#include "port_forward.h"
#include "tap.h"

static void parsed(const char *json, const char *addr, int host, int container)
{
	cJSON *j = cJSON_Parse(json);
	dcfs_port_map m;
	dcfs_error e = {0};
	int r = dcfs_port_map_parse(j, "dc.json", &m, &e);
	if (!tap_result(r == 0 && !strcmp(m.addr, addr) && m.host == host && m.container == container,
			__FILE__, __LINE__, "%s is '%s' %d -> %d", json, addr, host, container))
		tap_diag("  r=%d '%s' %d -> %d: %s", r, r == 0 ? m.addr : "", r == 0 ? m.host : 0,
			 r == 0 ? m.container : 0, e.msg ? e.msg : "");
	dcfs_error_clear(&e);
	cJSON_Delete(j);
}

static void refused(const char *json, const char *want)
{
	cJSON *j = cJSON_Parse(json);
	dcfs_port_map m;
	dcfs_error e = {0};
	int r = dcfs_port_map_parse(j, "dc.json", &m, &e);
	if (!tap_result(r == -EINVAL && e.msg && strstr(e.msg, want), __FILE__, __LINE__,
			"%s is refused with '%s'", json, want))
		tap_diag("  r=%d: %s", r, e.msg ? e.msg : "");
	dcfs_error_clear(&e);
	cJSON_Delete(j);
}

static void forwards(void)
{
	cJSON *j = cJSON_Parse("[3000, \"4000\", \"5017:5017\", \"8921:5017\", "
			       "\"127.0.0.1:8922:5018/tcp\"]");
	dcfs_port_map *m = NULL;
	size_t n = 0;
	dcfs_error e = {0};
	CHECK_INT(dcfs_app_port_forwards(j, "dc.json", &m, &n, &e), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK(m[0].host == 8921 && m[0].container == 5017 && !m[0].addr[0]);
		CHECK(m[1].host == 8922 && m[1].container == 5018 && !strcmp(m[1].addr, "127.0.0.1"));
	}
	free(m);
	cJSON_Delete(j);
	j = cJSON_Parse("\"8921:5017\"");
	CHECK_INT(dcfs_app_port_forwards(j, "dc.json", &m, &n, &e), 0);
	CHECK(n == 1 && m[0].host == 8921);
	free(m);
	cJSON_Delete(j);
	j = cJSON_Parse("[\"8921:5017\", \"1:2/udp\"]");
	CHECK_INT(dcfs_app_port_forwards(j, "dc.json", &m, &n, &e), -EINVAL);
	CHECK(m == NULL && n == 0);
	dcfs_error_clear(&e);
	cJSON_Delete(j);
	CHECK_INT(dcfs_app_port_forwards(NULL, "dc.json", &m, &n, &e), 0);
	CHECK(n == 0);
}

int main(void)
{
	parsed("3000", "", 3000, 3000);
	parsed("\"3000\"", "", 3000, 3000);
	parsed("\"3000/tcp\"", "", 3000, 3000);
	parsed("\"8921:5017\"", "", 8921, 5017);
	parsed("\"127.0.0.1:8922:5018\"", "127.0.0.1", 8922, 5018);
	parsed("\"[::1]:8923:5019\"", "::1", 8923, 5019);
	refused("\"8921:5017/udp\"", "dc.json: appPort: '8921:5017/udp' is not forwarded: only TCP");
	refused("\"8921:5017/sctp\"", "only TCP");
	refused("\"0:5017\"", "'0:5017' is not a port mapping");
	refused("\"8921:70000\"", "is not a port mapping");
	refused("\"8000-8010:8000-8010\"", "is not a port mapping");
	refused("\"127.0.0.1::5017\"", "is not a port mapping");
	refused("\":5017\"", "is not a port mapping");
	refused("\"abc\"", "is not a port mapping");
	refused("70000", "70000 is not a port");
	refused("1.5", "is not a port");
	refused("true", "expected a port number or string");
	forwards();
	return tap_done();
}
