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
#include "hash.h"
#include "image_list.h"
#include "image_record.h"
#include "image_table.h"
#include "upper_layer.h"

#define LABEL "dev.dcfs.snapshot."

/* The base's config with the snapshot's labels and creation time: each snapshot has a config
 * (and so a digest) of its own, and the labels carry what the `snapshots` row says, so that a
 * snapshot pushed to a registry and pulled on another machine is a prebuild there too. */
#define LABEL_PATH(name) "$.config.Labels.\"" LABEL name "\""

static int snapshot_config(sqlite3 *db, int64_t base_id, const dcfs_snapshot_meta *m,
			   char **out, dcfs_error *e)
{
	const char *const labels[][2] = {
		{LABEL_PATH("base"), m->base_ref},
		{LABEL_PATH("key"), m->key},
		{LABEL_PATH("stage"), m->stage},
		{LABEL_PATH("origin"), m->origin},
		{LABEL_PATH("config-hash"), m->config_hash},
		{LABEL_PATH("build-hash"), m->build_hash},
		{LABEL_PATH("base-digest"), m->base_digest},
		{LABEL_PATH("workspace-tree"), m->workspace_tree ? m->workspace_tree : ""},
	};
	int r = dcfs_image_config_labelled(db, base_id, labels, ELEMENTSOF(labels), out, e);
	if (r == -ENOENT)
		return dcfs_error_set(e, ENOENT, "the base image of '%s' is gone", m->base_ref);
	return r < 0 ? dcfs_error_wrap(e, "reading the base image") : 0;
}

/* A snapshot never replaces what has its name: an image, or another snapshot (a prebuild would
 * be lost, or one a container was made from). */
static int check_name(dcfs_store *s, const char *ref, dcfs_error *e)
{
	_cleanup_(dcfs_image_row_free) dcfs_image_row image = {0};
	int r = dcfs_image_lookup(s, ref, &image, e);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return dcfs_error_set(e, EEXIST, "'%s' is already %s: give the snapshot another name (or "
			      "'dcfs rmi %s' first)", ref,
			      !strcmp(image.kind, "image") ? "an image" : "a snapshot", ref);
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
		r = dcfs_upper_layer_list(db, base_id, layer_id, &layers, &n, e);
	if (r >= 0) {
		char digest[8 + DCFS_HASH_HEX];
		dcfs_image_digest(config, digest);
		r = dcfs_image_record_in(db, ref, "snapshot", config, digest, layers, n, e);
	}
	if (r >= 0)
		r = dcfs_snapshot_insert(db, ref, m, ws_layer, e);
	if (r >= 0)
		r = dcfs_catalog_exec(db, "COMMIT", e);
	if (r < 0)
		dcfs_catalog_rollback(db);
	return r;
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
	if ((r = dcfs_upper_ingest(s, upper, "snapshot", ref, &layer_id, stats, e)) < 0)
		return r;
	if (m->workspace_upper &&
	    (r = dcfs_upper_ingest(s, m->workspace_upper, "workspace", ref, &ws_layer, stats, e)) < 0)
		return dcfs_error_wrap(e, "the workspace changes");
	return record(s, base_id, layer_id, ws_layer, ref, m, e);
}

int dcfs_snapshot_adopt(dcfs_store *s, const char *ref, bool *adopted, dcfs_error *e)
{
	*adopted = false;
	int r = dcfs_catalog_exec(s->db, "BEGIN IMMEDIATE", e);
	if (r < 0)
		return r;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	r = dcfs_image_make_snapshot(s->db, ref, LABEL_PATH("key"), e);
	if (r >= 0)
		*adopted = r > 0;
	if (r >= 0)
		r = dcfs_snapshot_insert_from_labels(
			s->db, ref, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, e);
	if (r < 0)
		dcfs_error_wrap(e, "adopting a snapshot");
	if (r >= 0)
		r = dcfs_catalog_exec(s->db, "COMMIT", e);
	if (r < 0)
		dcfs_catalog_rollback(s->db);
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
