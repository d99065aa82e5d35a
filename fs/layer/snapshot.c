/* Taking, listing and retaining snapshots (see snapshot.h). The new layer is committed first
 * (its chunks durable, the layer row unreferenced); the snapshot image, its layer list, merged
 * index and `snapshots` row then commit together, so a crash in between leaves at most an
 * unreferenced layer that `dcfs prune` reclaims, never a listed half snapshot. */
#include "snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "chunk.h"
#include "cleanup.h"
#include "container_table.h"
#include "hash.h"
#include "image_record.h"
#include "image_list.h"
#include "import.h"

#define LABEL "dev.dcfs.snapshot."

/* The base's config with the snapshot's labels and creation time: each snapshot has a config
 * (and so a digest) of its own, and the labels carry what the `snapshots` row says, so that a
 * snapshot pushed to a registry and pulled on another machine is a prebuild there too. */
static const char config_sql[] =
	"WITH c AS (SELECT CASE json_type(config, '$.config.Labels') WHEN 'object' THEN config"
	"  ELSE json_set(config, '$.config.Labels', json('{}')) END AS j FROM images WHERE id = ?1)"
	" SELECT json_set(j, '$.created', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),"
	"  '$.config.Labels.\"" LABEL "base\"', ?2, '$.config.Labels.\"" LABEL "key\"', ?3,"
	"  '$.config.Labels.\"" LABEL "stage\"', ?4, '$.config.Labels.\"" LABEL "origin\"', ?5,"
	"  '$.config.Labels.\"" LABEL "config-hash\"', ?6,"
	"  '$.config.Labels.\"" LABEL "build-hash\"', ?7,"
	"  '$.config.Labels.\"" LABEL "base-digest\"', ?8,"
	"  '$.config.Labels.\"" LABEL "workspace-tree\"', ?9) FROM c";

static int snapshot_config(sqlite3 *db, int64_t base_id, const dcfs_snapshot_meta *m,
			   char **out, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, config_sql, &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, base_id);
	sqlite3_bind_text(st, 2, m->base_ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, m->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->stage, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, m->origin, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, m->config_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, m->build_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, m->base_digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, m->workspace_tree ? m->workspace_tree : "", -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return dcfs_error_set(e, ENOENT, "the base image of '%s' is gone", m->base_ref);
	if (rc != SQLITE_ROW)
		return dcfs_catalog_error(db, e, "reading the base image");
	const char *text = (const char *)sqlite3_column_text(st, 0);
	*out = strdup(text ? text : "{}");
	return *out ? 0 : dcfs_error_set(e, ENOMEM, "out of memory");
}

/* The base's layers, bottom first, and `top` after them. */
static int layer_list(sqlite3 *db, int64_t base_id, int64_t top, int64_t **out, size_t *n,
		      dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		db, "SELECT layer_id FROM image_layers WHERE image_id = ?1 ORDER BY pos", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, base_id);
	size_t count = 0, cap = 16;
	_cleanup_free_ int64_t *ids = malloc(cap * sizeof(*ids));
	while (ids && (r = dcfs_catalog_step(st, e)) > 0) {
		if (count + 1 == cap) {
			int64_t *more = realloc(ids, 2 * cap * sizeof(*ids));
			if (!more)
				return dcfs_error_set(e, ENOMEM, "out of memory");
			ids = more, cap *= 2;
		}
		ids[count++] = sqlite3_column_int64(st, 0);
	}
	if (!ids)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (r < 0)
		return dcfs_error_wrap(e, "reading the base image's layers");
	ids[count++] = top;
	*out = TAKE_PTR(ids);
	*n = count;
	return 0;
}

static int insert_row(sqlite3 *db, const char *ref, const dcfs_snapshot_meta *m,
		      int64_t ws_layer, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		db,
		"INSERT INTO snapshots(image_id, base_ref, base_digest, folder, config_file, key,"
		" config_hash, build_hash, stage, origin, created_ns, workspace_tree, workspace_layer)"
		" SELECT id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 FROM images"
		" WHERE ref = ?1",
		&st, e);
	if (r < 0)
		return r;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	const char *texts[] = {ref, m->base_ref, m->base_digest, m->folder, m->config_file, m->key,
			       m->config_hash, m->build_hash, m->stage, m->origin};
	for (size_t i = 0; i < ELEMENTSOF(texts); i++)
		sqlite3_bind_text(st, (int)i + 1, texts[i] ? texts[i] : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
	sqlite3_bind_text(st, 12, m->workspace_tree ? m->workspace_tree : "", -1, SQLITE_STATIC);
	if (ws_layer)
		sqlite3_bind_int64(st, 13, ws_layer);
	if (sqlite3_step(st) != SQLITE_DONE)
		return dcfs_catalog_error(db, e, "recording the snapshot");
	return 0;
}

/* A snapshot never replaces what has its name: an image, or another snapshot (a prebuild would
 * be lost, or one a container was made from). */
static int check_name(dcfs_store *s, const char *ref, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(s->db, "SELECT kind FROM images WHERE ref = ?1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	r = dcfs_catalog_step(st, e);
	if (r <= 0)
		return r;
	const char *kind = (const char *)sqlite3_column_text(st, 0);
	return dcfs_error_set(e, EEXIST, "'%s' is already %s: give the snapshot another name (or "
			      "'dcfs rmi %s' first)", ref,
			      kind && !strcmp(kind, "image") ? "an image" : "a snapshot", ref);
}

static int record(dcfs_store *s, int64_t base_id, int64_t layer_id, int64_t ws_layer,
		  const char *ref, const dcfs_snapshot_meta *m, dcfs_error *e)
{
	sqlite3 *db = s->db;
	int r = dcfs_catalog_exec(db, "BEGIN IMMEDIATE", e);
	if (r < 0)
		return r;
	_cleanup_free_ char *config = NULL;
	_cleanup_free_ int64_t *layers = NULL;
	size_t n = 0;
	r = check_name(s, ref, e); /* again, now that the catalog is ours */
	if (r >= 0)
		r = snapshot_config(db, base_id, m, &config, e);
	if (r >= 0)
		r = layer_list(db, base_id, layer_id, &layers, &n, e);
	if (r >= 0) {
		char digest[8 + DCFS_HASH_HEX];
		dcfs_image_digest(config, digest);
		r = dcfs_image_record_in(db, ref, "snapshot", config, digest, layers, n, e);
	}
	if (r >= 0)
		r = insert_row(db, ref, m, ws_layer, e);
	if (r >= 0)
		r = dcfs_catalog_exec(db, "COMMIT", e);
	if (r < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* Ingest the overlay upper directory `upper` as a layer named `what:ref`; *stats (optional)
 * receives the figures, added to what it holds. */
static int ingest_upper(dcfs_store *s, const char *upper, const char *what, const char *ref,
			int64_t *layer_id, dcfs_layer_writer_stats *stats, dcfs_error *e)
{
	_cleanup_ingest_ dcfs_layer_writer *in = NULL;
	int r = dcfs_layer_writer_new(s, "file", &in, e);
	if (r < 0)
		return r;
	dcfs_layer_writer_set_level(in, DCFS_SNAPSHOT_LEVEL);
	if ((r = dcfs_import_read_upper(in, upper, e)) < 0)
		return r;
	_cleanup_free_ char *source = NULL;
	if (asprintf(&source, "%s:%s", what, ref) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	const dcfs_layer_writer_stats *st = NULL;
	if ((r = dcfs_layer_writer_commit_layer(in, source, layer_id, &st, e)) < 0)
		return r;
	if (stats) {
		stats->entries += st->entries, stats->files += st->files;
		stats->file_bytes += st->file_bytes, stats->new_chunks += st->new_chunks;
		stats->new_plain_bytes += st->new_plain_bytes;
		stats->new_stored_bytes += st->new_stored_bytes, stats->dedup_bytes += st->dedup_bytes;
	}
	return 0;
}

int dcfs_snapshot_take(dcfs_store *s, const char *upper, int64_t base_id, const char *ref,
		       const dcfs_snapshot_meta *m, dcfs_layer_writer_stats *stats, dcfs_error *e)
{
	int r = check_name(s, ref, e);
	if (r < 0)
		return r;
	if (stats)
		*stats = (dcfs_layer_writer_stats){0};
	int64_t layer_id = 0, ws_layer = 0;
	if ((r = ingest_upper(s, upper, "snapshot", ref, &layer_id, stats, e)) < 0)
		return r;
	if (m->workspace_upper &&
	    (r = ingest_upper(s, m->workspace_upper, "workspace", ref, &ws_layer, stats, e)) < 0)
		return dcfs_error_wrap(e, "the workspace changes");
	return record(s, base_id, layer_id, ws_layer, ref, m, e);
}

#define SELECT_SNAPSHOT                                                                        \
	"SELECT s.image_id, i.ref, s.base_ref, s.base_digest, s.folder, s.config_file, s.key,"   \
	" s.config_hash, s.build_hash, s.stage, s.origin, s.created_ns, s.reclaimable,"         \
	" coalesce((SELECT l.size FROM image_layers il JOIN layers l ON l.id = il.layer_id"     \
	"  WHERE il.image_id = s.image_id ORDER BY il.pos DESC LIMIT 1), 0),"                   \
	" s.workspace_tree, coalesce(s.workspace_layer, 0),"                                     \
	" coalesce((SELECT size FROM layers WHERE id = s.workspace_layer), 0)"                  \
	" FROM snapshots s JOIN images i ON i.id = s.image_id"

static int read_row(sqlite3_stmt *st, dcfs_snapshot *sn)
{
	*sn = (dcfs_snapshot){
		.image_id = sqlite3_column_int64(st, 0),
		.ref = dcfs_catalog_text(st, 1),
		.base_ref = dcfs_catalog_text(st, 2),
		.base_digest = dcfs_catalog_text(st, 3),
		.folder = dcfs_catalog_text(st, 4),
		.config_file = dcfs_catalog_text(st, 5),
		.key = dcfs_catalog_text(st, 6),
		.config_hash = dcfs_catalog_text(st, 7),
		.build_hash = dcfs_catalog_text(st, 8),
		.stage = dcfs_catalog_text(st, 9),
		.origin = dcfs_catalog_text(st, 10),
		.created_ns = sqlite3_column_int64(st, 11),
		.reclaimable = sqlite3_column_int(st, 12) != 0,
		.size = (uint64_t)sqlite3_column_int64(st, 13),
		.workspace_tree = dcfs_catalog_text(st, 14),
		.workspace_layer = sqlite3_column_int64(st, 15),
		.workspace_size = (uint64_t)sqlite3_column_int64(st, 16),
	};
	if (!sn->ref || !sn->base_ref || !sn->base_digest || !sn->folder || !sn->config_file ||
	    !sn->key || !sn->config_hash || !sn->build_hash || !sn->stage || !sn->origin ||
	    !sn->workspace_tree) {
		dcfs_snapshot_free(sn);
		return -ENOMEM;
	}
	return 0;
}

/* The snapshot's used_by: the name of a container made from it, or NULL. */
static int used_by(dcfs_store *s, dcfs_snapshot *sn, dcfs_error *e)
{
	int r = dcfs_container_table_image_user(s, sn->image_id, &sn->used_by, e);
	return r < 0 ? r : 0;
}

int dcfs_snapshot_list(dcfs_store *s, dcfs_snapshot **out, size_t *n, dcfs_error *e)
{
	*out = NULL, *n = 0;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		s->db, SELECT_SNAPSHOT " ORDER BY s.config_file, s.created_ns DESC, s.image_id DESC",
		&st, e);
	if (r < 0)
		return r;
	dcfs_snapshot *list = NULL;
	size_t count = 0, cap = 0;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		if (count == cap) {
			cap = cap ? 2 * cap : 8;
			dcfs_snapshot *more = realloc(list, cap * sizeof(*more));
			if (!more)
				break;
			list = more;
		}
		if (read_row(st, &list[count]) < 0)
			break;
		count++;
		if ((r = used_by(s, &list[count - 1], e)) < 0)
			break;
	}
	if (r > 0) {
		dcfs_snapshot_list_free(list, count);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	if (r < 0) {
		dcfs_snapshot_list_free(list, count);
		return dcfs_error_wrap(e, "reading snapshots");
	}
	*out = list, *n = count;
	return 0;
}

static int find(dcfs_store *s, const char *key, const char *config_file,
		const char *config_hash, dcfs_snapshot *out, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(s->db,
				     SELECT_SNAPSHOT " WHERE s.origin = 'prebuild' AND"
				     " (?1 IS NULL OR s.key = ?1) AND (?2 IS NULL OR s.config_file = ?2)"
				     " AND (?3 IS NULL OR s.config_hash = ?3)"
				     " ORDER BY s.created_ns DESC, s.image_id DESC LIMIT 1",
				     &st, e);
	if (r < 0)
		return r;
	if (key)
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (config_file)
		sqlite3_bind_text(st, 2, config_file, -1, SQLITE_STATIC);
	if (config_hash)
		sqlite3_bind_text(st, 3, config_hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return dcfs_catalog_error(s->db, e, "reading snapshots");
	if (read_row(st, out) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if ((r = used_by(s, out, e)) < 0)
		dcfs_snapshot_free(out);
	return r;
}

int dcfs_snapshot_find(dcfs_store *s, const char *key, const char *config_file,
		       dcfs_snapshot *out, dcfs_error *e)
{
	return find(s, key, config_file, NULL, out, e);
}

int dcfs_snapshot_find_config(dcfs_store *s, const char *config_hash, dcfs_snapshot *out,
			      dcfs_error *e)
{
	return find(s, NULL, NULL, config_hash, out, e);
}

int dcfs_snapshot_retain(dcfs_store *s, const char *config_file, int keep, int *released,
			 dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		s->db,
		"UPDATE snapshots SET reclaimable = 1 WHERE reclaimable = 0 AND image_id IN ("
		" SELECT image_id FROM snapshots WHERE origin = 'prebuild' AND config_file = ?1"
		" ORDER BY created_ns DESC, image_id DESC LIMIT -1 OFFSET ?2)",
		&st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, config_file, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, keep);
	if (sqlite3_step(st) != SQLITE_DONE)
		return dcfs_catalog_error(s->db, e, "retaining snapshots");
	if (released)
		*released = sqlite3_changes(s->db);
	return 0;
}

#define LABEL_OF(name) "json_extract(config, '$.config.Labels.\"" LABEL name "\"')"

static const char adopt_sql[] =
	"UPDATE images SET kind = 'snapshot' WHERE ref = ?1 AND " LABEL_OF("key") " IS NOT NULL;"
	"INSERT OR IGNORE INTO snapshots(image_id, base_ref, base_digest, folder, config_file, key,"
	" config_hash, build_hash, stage, origin, created_ns, workspace_tree)"
	" SELECT id, coalesce(" LABEL_OF("base") ", ''), coalesce(" LABEL_OF("base-digest") ", ''),"
	" '', '', " LABEL_OF("key") ", coalesce(" LABEL_OF("config-hash") ", ''),"
	" coalesce(" LABEL_OF("build-hash") ", ''), coalesce(" LABEL_OF("stage") ", ''),"
	" CASE " LABEL_OF("origin") " WHEN 'prebuild' THEN 'prebuild' ELSE 'snapshot' END, ?2,"
	" coalesce(" LABEL_OF("workspace-tree") ", '')"
	" FROM images WHERE ref = ?1 AND kind = 'snapshot';";

int dcfs_snapshot_adopt(dcfs_store *s, const char *ref, bool *adopted, dcfs_error *e)
{
	*adopted = false;
	int r = dcfs_catalog_exec(s->db, "BEGIN IMMEDIATE", e);
	if (r < 0)
		return r;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	const char *sql = adopt_sql;
	while (r >= 0 && *sql) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, &tail) != SQLITE_OK) {
			r = dcfs_catalog_error(s->db, e, "adopting a snapshot");
			break;
		}
		sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
		if (sqlite3_bind_parameter_count(st) >= 2)
			sqlite3_bind_int64(st, 2, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = dcfs_catalog_error(s->db, e, "adopting a snapshot");
		else if (sqlite3_bind_parameter_count(st) < 2)
			*adopted = sqlite3_changes(s->db) > 0;
		sql = tail;
	}
	if (r >= 0)
		r = dcfs_catalog_exec(s->db, "COMMIT", e);
	if (r < 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int dcfs_snapshot_prune(dcfs_store *s, void (*removed)(const char *ref, void *u), void *u,
			dcfs_error *e)
{
	dcfs_snapshot *list = NULL;
	size_t n = 0;
	int r = dcfs_snapshot_list(s, &list, &n, e);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (!list[i].reclaimable || list[i].used_by)
			continue;
		r = dcfs_image_remove(s, list[i].ref, e);
		if (r == -EBUSY || r == -ENOENT) { /* pinned by a mount, or gone meanwhile */
			dcfs_error_clear(e);
			r = 0;
		} else if (r >= 0 && removed) {
			removed(list[i].ref, u);
		}
	}
	dcfs_snapshot_list_free(list, n);
	return r;
}

void dcfs_snapshot_free(dcfs_snapshot *sn)
{
	free(sn->ref), free(sn->base_ref), free(sn->base_digest), free(sn->folder);
	free(sn->config_file), free(sn->key), free(sn->config_hash), free(sn->build_hash);
	free(sn->stage), free(sn->origin), free(sn->used_by), free(sn->workspace_tree);
	*sn = (dcfs_snapshot){0};
}

void dcfs_snapshot_list_free(dcfs_snapshot *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dcfs_snapshot_free(&list[i]);
	free(list);
}
