/* The catalog's `containers` table (see container_table.h): every statement that reads or writes
 * it. */
#include "container_table.h"

#include <stdlib.h>
#include <time.h>

#include "catalog.h"
#include "cleanup.h"
#include "schema_internal.h"

#define SELECT_CONTAINER                                                                       \
	"SELECT id, name, state, folder, config_file, coalesce(image_id, 0), created, upper_bytes," \
	" variant, engine, engine_host, engine_id FROM containers"

static void read_row(sqlite3_stmt *st, dcfs_container *c)
{
	*c = (dcfs_container){
		.id = dcfs_catalog_text(st, 0),
		.name = dcfs_catalog_text(st, 1),
		.state = dcfs_catalog_text(st, 2),
		.folder = dcfs_catalog_text(st, 3),
		.config_file = dcfs_catalog_text(st, 4),
		.image_id = sqlite3_column_int64(st, 5),
		.created = sqlite3_column_int64(st, 6),
		.upper_bytes = sqlite3_column_int64(st, 7),
		.variant = sqlite3_column_int(st, 8) != 0,
		.engine = dcfs_catalog_text(st, 9),
		.engine_host = dcfs_catalog_text(st, 10),
		.engine_id = dcfs_catalog_text(st, 11),
	};
}

/* Prepare `sql` with `a` as ?1 and, when given, `b` as ?2. */
static int prepare_texts(dcfs_store *s, const char *sql, const char *a, const char *b,
			 sqlite3_stmt **st, dcfs_error *e)
{
	int r = dcfs_catalog_prepare(s->db, sql, st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(*st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(*st, 2, b, -1, SQLITE_STATIC);
	return 0;
}

/* The one container `where` (bound to ?1 and ?2) picks: 0, or -ENOENT. */
static int find_one(dcfs_store *s, const char *where, const char *a, const char *b,
		    dcfs_container *out, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_free_ char *sql = NULL;
	if (asprintf(&sql, "%s WHERE %s", SELECT_CONTAINER, where) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int r = prepare_texts(s, sql, a, b, &st, e);
	if (r < 0)
		return r;
	r = sqlite3_step(st);
	if (r == SQLITE_DONE)
		return -ENOENT;
	if (r != SQLITE_ROW)
		return dcfs_catalog_error(s->db, e, "reading containers");
	read_row(st, out);
	return 0;
}

int dcfs_container_table_get(dcfs_store *s, const char *id, dcfs_container *out, dcfs_error *e)
{
	return find_one(s, "id = ?1", id, NULL, out, e);
}

int dcfs_container_table_find(dcfs_store *s, const char *folder, const char *variant,
			      dcfs_container *out, dcfs_error *e)
{
	if (!variant)
		return find_one(s, "folder = ?1 AND variant = 0", folder, NULL, out, e);
	return find_one(s, "folder = ?1 AND variant = 1 AND config_file = ?2", folder, variant,
			out, e);
}

int dcfs_container_table_list(dcfs_store *s, dcfs_container **out, size_t *n, dcfs_error *e)
{
	*out = NULL;
	*n = 0;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(s->db, SELECT_CONTAINER " ORDER BY created, name", &st, e);
	if (r < 0)
		return r;
	size_t cap = 0;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			dcfs_container *grown = realloc(*out, cap * sizeof(**out));
			if (!grown) {
				dcfs_container_list_free(*out, *n);
				*out = NULL, *n = 0;
				return dcfs_error_set(e, ENOMEM, "out of memory");
			}
			*out = grown;
		}
		read_row(st, &(*out)[(*n)++]);
	}
	if (r < 0) {
		dcfs_container_list_free(*out, *n);
		*out = NULL, *n = 0;
		return dcfs_error_wrap(e, "listing containers");
	}
	return 0;
}

int dcfs_container_table_insert(dcfs_store *s, const dcfs_container *c, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(s->db,
				     "INSERT INTO containers(id, name, image_id, state, created, folder,"
				     " config_file, variant, engine, engine_host) VALUES (?1, ?2, ?3,"
				     " 'created', ?4, ?5, ?6, ?7, coalesce(?8, 'runc'), ?9)",
				     &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
	if (c->image_id) /* an engine's container has its image in the engine */
		sqlite3_bind_int64(st, 3, c->image_id);
	sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
	sqlite3_bind_text(st, 5, c->folder, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->config_file, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, c->variant);
	sqlite3_bind_text(st, 8, c->engine, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, c->engine_host, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return dcfs_catalog_error(s->db, e, "recording the container");
	return 0;
}

/* Run `sql` (an UPDATE or DELETE of one container) with `id` as ?1 and, when given, `text` or
 * else `*value` as ?2; `what` names it in an error (-EEXIST when it breaks a constraint: a name
 * another container has). */
static int change(dcfs_store *s, const char *sql, const char *id, const char *text,
		  const int64_t *value, const char *what, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = prepare_texts(s, sql, id, text, &st, e);
	if (r < 0)
		return r;
	if (!text && value)
		sqlite3_bind_int64(st, 2, *value);
	if (sqlite3_step(st) != SQLITE_DONE)
		return dcfs_catalog_error(s->db, e, what);
	return 0;
}

int dcfs_container_table_set_state(dcfs_store *s, const char *id, const char *state,
				   dcfs_error *e)
{
	return change(s, "UPDATE containers SET state = ?2 WHERE id = ?1", id, state, NULL,
		      "updating the container", e);
}

int dcfs_container_table_set_upper_bytes(dcfs_store *s, const char *id, uint64_t bytes,
					 dcfs_error *e)
{
	int64_t value = (int64_t)bytes;
	return change(s, "UPDATE containers SET upper_bytes = ?2 WHERE id = ?1", id, NULL, &value,
		      "updating the container", e);
}

int dcfs_container_table_set_engine_id(dcfs_store *s, const char *id, const char *engine_id,
				       dcfs_error *e)
{
	if (!engine_id)
		return change(s, "UPDATE containers SET engine_id = NULL WHERE id = ?1", id, NULL,
			      NULL, "updating the container", e);
	return change(s, "UPDATE containers SET engine_id = ?2 WHERE id = ?1", id, engine_id, NULL,
		      "updating the container", e);
}

int dcfs_container_table_rename(dcfs_store *s, const char *id, const char *name, dcfs_error *e)
{
	return change(s, "UPDATE containers SET name = ?2 WHERE id = ?1", id, name, NULL,
		      "renaming the container", e);
}

int dcfs_container_table_delete(dcfs_store *s, const char *id, dcfs_error *e)
{
	return change(s, "DELETE FROM containers WHERE id = ?1", id, NULL, NULL,
		      "removing the container", e);
}

int dcfs_container_table_image_user(dcfs_store *s, int64_t image_id, char **name,
				    dcfs_error *e)
{
	*name = NULL;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(s->db, "SELECT name FROM containers WHERE image_id = ?1 LIMIT 1",
				     &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, image_id);
	r = dcfs_catalog_step(st, e);
	if (r <= 0)
		return r;
	if (!(*name = dcfs_catalog_text(st, 0)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 1;
}

int dcfs_container_table_figures(dcfs_store *s, dcfs_container_figures *out, dcfs_error *e)
{
	*out = (dcfs_container_figures){0};
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		s->db,
		"SELECT count(*), coalesce(sum(state = 'running'), 0), coalesce(sum(upper_bytes), 0),"
		" coalesce(sum(CASE WHEN state != 'running' THEN upper_bytes END), 0),"
		" (SELECT count(DISTINCT c.image_id) FROM containers c"
		"  JOIN images i ON i.id = c.image_id AND i.kind = 'image'),"
		" (SELECT count(DISTINCT c.image_id) FROM containers c"
		"  JOIN snapshots s ON s.image_id = c.image_id)"
		" FROM containers",
		&st, e);
	if (r < 0 || (r = dcfs_catalog_step(st, e)) <= 0)
		return r;
	*out = (dcfs_container_figures){.containers = sqlite3_column_int64(st, 0),
					.running = sqlite3_column_int64(st, 1),
					.upper_bytes = sqlite3_column_int64(st, 2),
					.idle_bytes = sqlite3_column_int64(st, 3),
					.images_used = sqlite3_column_int64(st, 4),
					.snapshots_used = sqlite3_column_int64(st, 5)};
	return 0;
}

void dcfs_container_free(dcfs_container *c)
{
	free(c->id);
	free(c->name);
	free(c->state);
	free(c->folder);
	free(c->config_file);
	free(c->image);
	free(c->engine);
	free(c->engine_host);
	free(c->engine_id);
	*c = (dcfs_container){0};
}

void dcfs_container_list_free(dcfs_container *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dcfs_container_free(&list[i]);
	free(list);
}

/* The schema of the `containers` table: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_container_table_schema[] = {
	{1,
		/* Containers, volumes and workspaces: their byte counts are kept by the filesystem. */
		"CREATE TABLE containers ("
		"  id TEXT PRIMARY KEY,"
		"  name TEXT NOT NULL UNIQUE,"
		"  image_id INTEGER REFERENCES images(id),"
		"  state TEXT NOT NULL DEFAULT 'created',"
		"  upper_bytes INTEGER NOT NULL DEFAULT 0,"
		"  created INTEGER NOT NULL"
		");"
		/* containers, volumes, workspaces -> sums */
		"CREATE TRIGGER containers_ins AFTER INSERT ON containers BEGIN"
		"  UPDATE sums SET value = value + CASE name WHEN 'containers' THEN 1"
		"    WHEN 'containers_running' THEN NEW.state = 'running' ELSE NEW.upper_bytes END"
		"  WHERE name IN ('containers','containers_running','container_bytes');"
		"END;"
		"CREATE TRIGGER containers_del AFTER DELETE ON containers BEGIN"
		"  UPDATE sums SET value = value - CASE name WHEN 'containers' THEN 1"
		"    WHEN 'containers_running' THEN OLD.state = 'running' ELSE OLD.upper_bytes END"
		"  WHERE name IN ('containers','containers_running','container_bytes');"
		"END;"
		"CREATE TRIGGER containers_upd AFTER UPDATE OF state, upper_bytes ON containers BEGIN"
		"  UPDATE sums SET value = value + CASE name"
		"    WHEN 'containers_running' THEN (NEW.state = 'running') - (OLD.state = 'running')"
		"    ELSE NEW.upper_bytes - OLD.upper_bytes END"
		"  WHERE name IN ('containers_running','container_bytes');"
		"END;"},
	/* v2: a container remembers the host folder it was made for, and the configuration file. */
	{2,
		"ALTER TABLE containers ADD COLUMN folder TEXT;"
		"ALTER TABLE containers ADD COLUMN config_file TEXT;"
		"CREATE INDEX containers_folder ON containers(folder);"},
	/* v7: a container made for a `--config FILE` other than the folder's default is a variant:
	 * its identity is the folder and that file (a default one's, the folder alone), so that each
	 * configuration of a folder gets a container of its own. */
	{7,
		"ALTER TABLE containers ADD COLUMN variant INTEGER NOT NULL DEFAULT 0;"},
	/* v9: a container runs on runc (dcfs's own bundle and root view) or on an engine that
	 * dcfs drives through its API (podman, docker): which, where the engine listens and the
	 * engine's id of the container (NULL until it is made there). */
	{9,
		"ALTER TABLE containers ADD COLUMN engine TEXT NOT NULL DEFAULT 'runc';"
		"ALTER TABLE containers ADD COLUMN engine_host TEXT;"
		"ALTER TABLE containers ADD COLUMN engine_id TEXT;"},
	{0, NULL},
};
