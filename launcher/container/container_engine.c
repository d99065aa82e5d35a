/* The containers that an engine runs (podman, docker: container_table.h's engine columns):
 * stopping, measuring and removing them through the engine's API, and a Compose
 * configuration's project through its compose tool (STORE/containers/<id>/compose.json, with
 * the shutdownAction in STORE/containers/<id>/shutdown-action). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "compose.h"
#include "container.h"
#include "fsutil.h"
#include "jsonc.h"

bool dcfs_container_on_engine(const dcfs_container *c)
{
	return c->engine && strcmp(c->engine, "runc") != 0;
}

int dcfs_container_engine_open(const dcfs_container *c, dcfs_engine *en, dcfs_error *e)
{
	int r = dcfs_engine_open(c->engine, c->engine_host, en, e);
	return r < 0 ? dcfs_error_wrap(e, "container %s", c->name) : r;
}

/* The compose setup saved with the container: 1 with *out, 0 when it is not a compose one. */
static int load_compose(dcfs_store *s, const dcfs_container *c, const dcfs_engine *en,
			dcfs_compose *out, dcfs_error *e)
{
	_cleanup_free_ char *path = dcfs_container_path(s, c->id, "compose.json");
	if (!path)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (access(path, F_OK) < 0)
		return 0;
	int r = dcfs_compose_load(path, en, out, e);
	return r < 0 ? r : 1;
}

/* The engine, and the compose setup when it is a Compose one (1; 0: it is not). */
static int open_both(dcfs_store *s, const dcfs_container *c, dcfs_engine *en,
		     dcfs_compose *compose, dcfs_error *e)
{
	int r = dcfs_container_engine_open(c, en, e);
	return r < 0 ? r : load_compose(s, c, en, compose, e);
}

/* Does shutdownAction say that the whole project stops with the dev container (stopCompose,
 * the default of a Compose configuration), not only its service? */
static bool stops_compose(dcfs_store *s, const dcfs_container *c)
{
	_cleanup_free_ char *path = dcfs_container_path(s, c->id, "shutdown-action");
	char text[32] = "";
	_cleanup_fclose_ FILE *f = path ? fopen(path, "re") : NULL;
	if (f && !fgets(text, sizeof(text), f))
		text[0] = 0;
	return !text[0] || !strncmp(text, "stopCompose", 11);
}

int dcfs_container_engine_measure(dcfs_store *s, const dcfs_container *c, dcfs_engine *en,
				  dcfs_error *e)
{
	if (!c->engine_id)
		return 0;
	_cleanup_json_ cJSON *info = NULL;
	int r = dcfs_engine_inspect(en, c->engine_id, true, &info, e);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	double rw = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(info, "SizeRw"));
	return dcfs_container_table_set_upper_bytes(s, c->id, rw > 0 ? (uint64_t)rw : 0, e);
}

int dcfs_container_engine_stop(dcfs_store *s, const dcfs_container *c, int timeout_ms,
			       dcfs_error *e)
{
	if (!c->engine_id)
		return 0;
	_cleanup_(dcfs_engine_close) dcfs_engine en = {0};
	_cleanup_(dcfs_compose_free) dcfs_compose compose = {0};
	int r = open_both(s, c, &en, &compose, e);
	if (r > 0 && stops_compose(s, c))
		r = dcfs_compose_stop(&compose, NULL, e);
	else if (r >= 0)
		r = dcfs_engine_stop(&en, c->engine_id, (timeout_ms + 999) / 1000, e);
	return r < 0 ? r : dcfs_container_engine_measure(s, c, &en, e);
}

int dcfs_container_engine_remove(dcfs_store *s, const dcfs_container *c, dcfs_error *e)
{
	if (!c->engine_id)
		return 0;
	_cleanup_(dcfs_engine_close) dcfs_engine en = {0};
	_cleanup_(dcfs_compose_free) dcfs_compose compose = {0};
	int r = open_both(s, c, &en, &compose, e);
	if (r > 0)
		r = dcfs_compose_down(&compose, false, NULL, e);
	else if (r >= 0)
		r = dcfs_engine_remove(&en, c->engine_id, true, e);
	return r < 0 ? r : dcfs_container_table_set_engine_id(s, c->id, NULL, e);
}

int dcfs_container_engine_state(const dcfs_container *c, char **state, dcfs_error *e)
{
	*state = NULL;
	if (!c->engine_id)
		return 0;
	_cleanup_(dcfs_engine_close) dcfs_engine en = {0};
	int r = dcfs_container_engine_open(c, &en, e);
	if (r >= 0)
		r = dcfs_engine_state(&en, c->engine_id, state, e);
	if (r == -ENOENT) {
		dcfs_error_clear(e);
		return 0;
	}
	return r;
}
