/* appPort entries as port mappings (see port_forward.h). */
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "port_forward.h"

static int port_number(const char *s, size_t len)
{
	int n = 0;
	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	return n >= 1 && n <= 65535 ? n : -1;
}

static int bad(const char *where, const char *text, const char *why, dcfs_error *e)
{
	return dcfs_error_set(e, EINVAL, "%s: appPort: '%s' %s", where, text, why);
}

/* "[IP:]HOST:CONTAINER" or "CONTAINER", the protocol already cut off. */
static int parse_text(const char *text, size_t len, dcfs_port_map *m)
{
	const char *c = memrchr(text, ':', len);
	if (!c)
		return (m->host = m->container = port_number(text, len)) < 0 ? -1 : 0;
	m->container = port_number(c + 1, (size_t)(text + len - c - 1));
	const char *h = memrchr(text, ':', (size_t)(c - text));
	const char *hs = h ? h + 1 : text;
	m->host = port_number(hs, (size_t)(c - hs));
	if (h) {
		const char *a = text;
		size_t alen = (size_t)(h - text);
		if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']')
			a++, alen -= 2;
		if (alen == 0 || alen >= sizeof(m->addr))
			return -1;
		memcpy(m->addr, a, alen);
		m->addr[alen] = 0;
	}
	return m->host < 0 || m->container < 0 ? -1 : 0;
}

int dcfs_port_map_parse(const cJSON *entry, const char *where, dcfs_port_map *out, dcfs_error *e)
{
	*out = (dcfs_port_map){0};
	if (cJSON_IsNumber(entry)) {
		double v = entry->valuedouble;
		if (v < 1 || v > 65535 || v != (int)v)
			return dcfs_error_set(e, EINVAL, "%s: appPort: %g is not a port", where, v);
		out->host = out->container = (int)v;
		return 0;
	}
	const char *text = cJSON_GetStringValue(entry);
	if (!text)
		return dcfs_error_set(e, EINVAL, "%s: appPort: expected a port number or string",
				      where);
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	if (slash && strcmp(slash, "/tcp"))
		return bad(where, text, "is not forwarded: only TCP is (no /udp or /sctp)", e);
	if (parse_text(text, len, out) < 0)
		return bad(where, text,
			   "is not a port mapping (PORT, HOST:CONTAINER or IP:HOST:CONTAINER, "
			   "ports 1-65535)",
			   e);
	return 0;
}

int dcfs_app_port_forwards(const cJSON *app_port, const char *where, dcfs_port_map **out,
			   size_t *n, dcfs_error *e)
{
	*out = NULL;
	*n = 0;
	if (!app_port)
		return 0;
	const cJSON *one = cJSON_IsArray(app_port) ? NULL : app_port;
	_cleanup_free_ dcfs_port_map *maps = NULL;
	size_t count = 0;
	for (const cJSON *it = one ? one : app_port->child; it; it = one ? NULL : it->next) {
		dcfs_port_map m;
		int r = dcfs_port_map_parse(it, where, &m, e);
		if (r < 0)
			return r;
		if (m.host == m.container)
			continue; /* the container listens on the host already */
		dcfs_port_map *more = realloc(maps, (count + 1) * sizeof(*maps));
		if (!more)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		maps = more;
		maps[count++] = m;
	}
	*out = TAKE_PTR(maps);
	*n = count;
	return 0;
}
