/* The `snapshots` table (see snapshot_table.h): all the SQL that reads or writes it. A
 * snapshot's row says what it was taken from; its image row and layers are image_table.c's. */
#include "snapshot_table.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "cleanup.h"
#include "container_table.h"
#include "schema_internal.h"

int dcfs_snapshot_insert(sqlite3 *db, const char *ref, const dcfs_snapshot_meta *m,
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

/* Run `sql` (no rows) with `text` as ?1 and `n` as ?2: the number of rows it changed; a failure
 * says `what` failed. */
static int run_text_int(sqlite3 *db, const char *sql, const char *text, int64_t n,
			const char *what, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, sql, &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, n);
	if (sqlite3_step(st) != SQLITE_DONE)
		return dcfs_catalog_error(db, e, what);
	return sqlite3_changes(db);
}

#define LABEL_OF(name) "json_extract(config, '$.config.Labels.\"dev.dcfs.snapshot." name "\"')"

int dcfs_snapshot_insert_from_labels(sqlite3 *db, const char *ref, int64_t created_ns,
				     dcfs_error *e)
{
	int r = run_text_int(
		db,
		"INSERT OR IGNORE INTO snapshots(image_id, base_ref, base_digest, folder, config_file,"
		" key, config_hash, build_hash, stage, origin, created_ns, workspace_tree)"
		" SELECT id, coalesce(" LABEL_OF("base") ", ''), coalesce(" LABEL_OF("base-digest") ", ''),"
		" '', '', " LABEL_OF("key") ", coalesce(" LABEL_OF("config-hash") ", ''),"
		" coalesce(" LABEL_OF("build-hash") ", ''), coalesce(" LABEL_OF("stage") ", ''),"
		" CASE " LABEL_OF("origin") " WHEN 'prebuild' THEN 'prebuild' ELSE 'snapshot' END, ?2,"
		" coalesce(" LABEL_OF("workspace-tree") ", '')"
		" FROM images WHERE ref = ?1 AND kind = 'snapshot'",
		ref, created_ns, "catalog", e);
	return r < 0 ? r : 0;
}

#define SELECT_SNAPSHOT                                                                        \
	"SELECT s.image_id, i.ref, s.base_ref, s.base_digest, s.folder, s.config_file, s.key,"   \
	" s.config_hash, s.build_hash, s.stage, s.origin, s.created_ns, s.reclaimable,"         \
	" coalesce((SELECT l.size FROM image_layers il JOIN layers l ON l.id = il.layer_id"     \
	"  WHERE il.image_id = s.image_id ORDER BY il.pos DESC LIMIT 1), 0),"                   \
	" s.workspace_tree, coalesce(s.workspace_layer, 0),"                                     \
	" coalesce((SELECT size FROM layers WHERE id = s.workspace_layer), 0)"                  \
	" FROM snapshots s JOIN images i ON i.id = s.image_id"

/* The snapshot's used_by: the name of a container made from it, or NULL. */
static int used_by(dcfs_store *s, dcfs_snapshot *sn, dcfs_error *e)
{
	int r = dcfs_container_table_image_user(s, sn->image_id, &sn->used_by, e);
	return r < 0 ? r : 0;
}

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
	r = dcfs_catalog_step(st, e);
	if (r == 0)
		return -ENOENT;
	if (r < 0)
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
	int r = run_text_int(
		s->db,
		"UPDATE snapshots SET reclaimable = 1 WHERE reclaimable = 0 AND image_id IN ("
		" SELECT image_id FROM snapshots WHERE origin = 'prebuild' AND config_file = ?1"
		" ORDER BY created_ns DESC, image_id DESC LIMIT -1 OFFSET ?2)",
		config_file, keep, "retaining snapshots", e);
	if (r < 0)
		return r;
	if (released)
		*released = r;
	return 0;
}

int dcfs_snapshot_check(sqlite3 *db, void (*fn)(bool missing, int64_t image_id, void *u), void *u,
			dcfs_error *e)
{
	static const char *const queries[] = {
		"SELECT id FROM images i WHERE kind = 'snapshot' AND NOT EXISTS"
		" (SELECT 1 FROM snapshots s WHERE s.image_id = i.id)",
		"SELECT s.image_id FROM snapshots s JOIN images i ON i.id = s.image_id"
		" WHERE i.kind != 'snapshot'",
	};
	for (size_t i = 0; i < ELEMENTSOF(queries); i++) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		int r = dcfs_catalog_prepare(db, queries[i], &st, e);
		if (r < 0)
			return r;
		while ((r = dcfs_catalog_step(st, e)) > 0)
			fn(i == 0, sqlite3_column_int64(st, 0), u);
		if (r < 0)
			return r;
	}
	return 0;
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

/* The schema of the `snapshots` table: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_snapshot_table_schema[] = {
	/* v3: what a snapshot was taken from: its base image, the configuration it belongs to (the
	 * folder and file: snapshots are grouped, listed and retained per configuration), the prebuild
	 * key and its parts (so that a miss can say which part differed), the lifecycle stage, what
	 * made it (`dcfs prebuild` or `dcfs snapshot`), and
	 * whether retention has let it go (reclaimable: `dcfs prune` removes it). */
	{3,
		"CREATE TABLE snapshots ("
		"  image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,"
		"  base_ref TEXT NOT NULL,"
		"  base_digest TEXT NOT NULL,"
		"  folder TEXT NOT NULL,"
		"  config_file TEXT NOT NULL,"
		"  key TEXT NOT NULL,"
		"  config_hash TEXT NOT NULL,"
		"  build_hash TEXT NOT NULL,"
		"  stage TEXT NOT NULL,"
		"  origin TEXT NOT NULL CHECK (origin IN ('prebuild','snapshot')),"
		"  created_ns INTEGER NOT NULL,"
		"  reclaimable INTEGER NOT NULL DEFAULT 0"
		");"
		"CREATE INDEX snapshots_key ON snapshots(key, created_ns);"
		"CREATE INDEX snapshots_config ON snapshots(config_file, created_ns);"},
	/* v6: a prebuild's workspace changes (launcher/up/prebuild_workspace.c): the git tree of HEAD the
	 * prebuild's folder had ('' when it was no git repository) and the layer its changes to the
	 * folder were stored as. The layer is referenced by the snapshot row as by an image_layers row,
	 * so it lives and goes with the snapshot. */
	{6,
		"ALTER TABLE snapshots ADD COLUMN workspace_tree TEXT NOT NULL DEFAULT '';"
		"ALTER TABLE snapshots ADD COLUMN workspace_layer INTEGER REFERENCES layers(id);"
		"CREATE TRIGGER snapshots_ws_ins AFTER INSERT ON snapshots"
		"  WHEN NEW.workspace_layer IS NOT NULL BEGIN"
		"  UPDATE layers SET refs = refs + 1 WHERE id = NEW.workspace_layer;"
		"END;"
		"CREATE TRIGGER snapshots_ws_del AFTER DELETE ON snapshots"
		"  WHEN OLD.workspace_layer IS NOT NULL BEGIN"
		"  UPDATE layers SET refs = refs - 1 WHERE id = OLD.workspace_layer;"
		"END;"},
	{0, NULL},
};
