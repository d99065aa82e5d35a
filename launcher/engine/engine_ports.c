/* Published and exposed ports of the create body: -p/--publish [IP:][HOST:]CONTAINER[/PROTO]
 * (HostConfig.PortBindings and ExposedPorts) and --expose, with ranges ("8000-8002") as
 * docker run takes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "engine_flags_internal.h"

typedef struct range {
	int64_t lo, hi;
} range;

/* "80" or "8000-8010"; an empty host port means "any" (lo = hi = 0). */
static bool parse_range(const char *text, bool empty_ok, range *r)
{
	if (!*text) {
		*r = (range){0, 0};
		return empty_ok;
	}
	_cleanup_free_ char *lo = strndup(text, strcspn(text, "-"));
	const char *dash = strchr(text, '-');
	if (!lo || !spec_parse_int(lo, 1, 65535, &r->lo))
		return false;
	r->hi = r->lo;
	return !dash || (spec_parse_int(dash + 1, r->lo, 65535, &r->hi));
}

/* Split "CONTAINER[/PROTO]"; proto must be tcp, udp or sctp. */
static bool split_proto(char *port, const char **proto)
{
	char *slash = strchr(port, '/');
	*proto = "tcp";
	if (!slash)
		return true;
	*slash = '\0';
	*proto = slash + 1;
	return !strcmp(*proto, "tcp") || !strcmp(*proto, "udp") || !strcmp(*proto, "sctp");
}

static int expose_one(spec_ctx *c, int64_t port, const char *proto, const char *ip,
		      int64_t host_port, bool publish)
{
	char key[32], hp[16];
	snprintf(key, sizeof(key), "%lld/%s", (long long)port, proto);
	int r = spec_put(spec_object(c->body, "ExposedPorts"), key, cJSON_CreateObject());
	if (r < 0 || !publish)
		return r;
	snprintf(hp, sizeof(hp), "%lld", (long long)host_port);
	cJSON *b = cJSON_CreateObject();
	if (!b || !cJSON_AddStringToObject(b, "HostIp", ip) ||
	    !cJSON_AddStringToObject(b, "HostPort", host_port ? hp : "")) {
		cJSON_Delete(b);
		return -ENOMEM;
	}
	return spec_append(spec_array(spec_object(c->host, "PortBindings"), key), b);
}

/* The IP part: "[v6]" or v4 or empty; `rest` is left at "HOST:CONTAINER" or "CONTAINER". */
static bool split_ip(char *v, char **ip, char **rest)
{
	*ip = "";
	*rest = v;
	if (v[0] == '[') {
		char *close = strchr(v, ']');
		if (!close || close[1] != ':')
			return false;
		*close = '\0';
		*ip = v + 1;
		*rest = close + 2;
		return true;
	}
	char *first = strchr(v, ':');
	if (first && strchr(first + 1, ':')) { /* IP:HOST:CONTAINER */
		*first = '\0';
		*ip = v;
		*rest = first + 1;
	}
	return true;
}

int spec_publish_flag(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)f;
	_cleanup_free_ char *copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	char *ip, *rest;
	const char *proto;
	if (!split_ip(copy, &ip, &rest))
		return spec_flag_error(c, EINVAL, "bad port '%s'", v);
	char *colon = strchr(rest, ':');
	char *cport = colon ? colon + 1 : rest;
	if (colon)
		*colon = '\0';
	range h = {0, 0}, p;
	if (!split_proto(cport, &proto) || !parse_range(cport, false, &p) ||
	    (colon && !parse_range(rest, true, &h)) ||
	    (h.lo && h.hi - h.lo != p.hi - p.lo && h.lo != h.hi))
		return spec_flag_error(c, EINVAL, "bad port '%s'", v);
	for (int64_t i = 0; i <= p.hi - p.lo; i++) {
		int64_t host = !h.lo ? 0 : h.lo == h.hi ? h.lo : h.lo + i;
		int r = expose_one(c, p.lo + i, proto, ip, host, true);
		if (r < 0)
			return r;
	}
	return 0;
}

int spec_expose_flag(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)f;
	_cleanup_free_ char *copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	const char *proto;
	range p;
	if (!split_proto(copy, &proto) || !parse_range(copy, false, &p))
		return spec_flag_error(c, EINVAL, "bad port '%s'", v);
	for (int64_t i = p.lo; i <= p.hi; i++) {
		int r = expose_one(c, i, proto, "", 0, false);
		if (r < 0)
			return r;
	}
	return 0;
}
