/* The owners of the image tables on a real catalog in a temporary store: image_table.c (images,
 * image_layers), merged_index.c (image_index) and snapshot_table.c (snapshots). Layers and
 * entries are written with plain SQL here; everything about the owned tables goes through the
 * owners' functions. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "image_list.h"
#include "image_record.h"
#include "image_table.h"
#include "merged_index.h"
#include "snapshot_table.h"
#include "store.h"
#include "tap.h"
#include "tmp_catalog.h"

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		tap_diag("SQL failed: %s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
}

/* Two layers: the bottom one has /a/x, /a/y and /b; the top one whites out /a/x, adds /c, and
 * a third (used by a snapshot) adds /d. */
static void add_layers(sqlite3 *db)
{
	exec(db, "INSERT INTO layers(id, digest, source, created, entries, files, size) VALUES"
		 " (1, 'l1', 'test:1', 0, 5, 3, 300), (2, 'l2', 'test:2', 0, 3, 1, 20),"
		 " (3, 'l3', 'test:3', 0, 2, 1, 7);"
		 "INSERT INTO entries(layer_id, path, type, mode, uid, gid, mtime_ns) VALUES"
		 " (1, '', 'd', 493, 0, 0, 0), (1, 'a', 'd', 493, 0, 0, 0),"
		 " (1, 'a/x', 'f', 420, 0, 0, 0), (1, 'a/y', 'f', 420, 0, 0, 0),"
		 " (1, 'b', 'f', 420, 0, 0, 0), (2, '', 'd', 493, 0, 0, 0),"
		 " (2, 'a/x', 'w', 0, 0, 0, 0), (2, 'c', 'f', 420, 1, 2, 5),"
		 " (3, '', 'd', 493, 0, 0, 0), (3, 'd', 'f', 420, 0, 0, 0);");
}

/* The merged tree's paths, joined with spaces. */
static char *tree_paths(sqlite3 *db, int64_t image_id)
{
	static char buf[256];
	buf[0] = 0;
	dcfs_merged_entries it;
	dcfs_entry_row row;
	dcfs_error e = {0};
	if (dcfs_merged_entries_open(&it, db, image_id, &e) < 0)
		return "(error)";
	while (dcfs_merged_entries_next(&it, &row, &e) > 0) {
		strcat(buf, "/");
		strcat(buf, row.path);
		strcat(buf, " ");
	}
	dcfs_merged_entries_free(&it);
	dcfs_error_clear(&e);
	return buf;
}

static void test_images(dcfs_store *s)
{
	dcfs_error e = {0};
	dcfs_image_row im;
	CHECK_INT(dcfs_image_lookup(s, "busybox:latest", &im, &e), -ENOENT);
	CHECK(e.msg == NULL);
	int64_t layers[] = {1, 2};
	CHECK_INT(dcfs_image_record(s, "busybox:latest", "{\"config\":{}}", layers, 2, &e), 0);
	CHECK_INT(dcfs_image_lookup(s, "busybox:latest", &im, &e), 0);
	char digest[8 + DCFS_HASH_HEX];
	dcfs_image_digest("{\"config\":{}}", digest);
	CHECK_STR(im.kind, "image");
	CHECK_STR(im.digest, digest);
	CHECK_STR(im.config, "{\"config\":{}}");
	CHECK(im.pulled);
	int64_t id = im.id;
	dcfs_image_row_free(&im);
	CHECK_INT(dcfs_image_lookup_id(s, id, &im, &e), 0);
	CHECK_STR(im.ref, "busybox:latest");
	dcfs_image_row_free(&im);

	int64_t *ids = NULL;
	size_t n = 0;
	CHECK_INT(dcfs_image_layers_get(s->db, id, 1, &ids, &n, &e), 0);
	CHECK_INT(n, 2);
	CHECK(ids && ids[0] == 1 && ids[1] == 2);
	free(ids);
	CHECK_STR(tree_paths(s->db, id), "/ /a /a/y /b /c ");

	char *config = NULL;
	const char *const labels[][2] = {{"$.config.Labels.\"k\"", "v"}, {"$.config.Labels.\"n\"", NULL}};
	CHECK_INT(dcfs_image_config_labelled(s->db, id, labels, 2, &config, &e), 0);
	CHECK(config && strstr(config, "\"Labels\":{\"k\":\"v\",\"n\":null}") &&
	      strstr(config, "\"created\":"));
	free(config);
	CHECK_INT(dcfs_image_config_labelled(s->db, 999, labels, 2, &config, &e), -ENOENT);

	char *found = NULL;
	CHECK_INT(dcfs_image_config_by_digest(s, digest, &found, &e), 1);
	CHECK_STR(found, "{\"config\":{}}");
	free(found);

	dcfs_image_info *list = NULL;
	CHECK_INT(dcfs_image_list_list(s, "image", &list, &n, &e), 0);
	CHECK_INT(n, 1);
	CHECK(n == 1 && list[0].layers == 2 && list[0].size == 320 && !list[0].precious);
	dcfs_image_list_free(list, n);
	dcfs_error_clear(&e);
}

static void count_problem(bool missing, int64_t image_id, void *u)
{
	(void)image_id;
	((int *)u)[missing ? 0 : 1]++;
}

static void test_snapshots(dcfs_store *s)
{
	dcfs_error e = {0};
	sqlite3 *db = s->db;
	int64_t layers[] = {1, 2, 3};
	const char *cfg = "{\"config\":{\"Labels\":{\"dev.dcfs.snapshot.key\":\"K\","
			  "\"dev.dcfs.snapshot.origin\":\"prebuild\"}}}";
	exec(db, "BEGIN");
	CHECK_INT(dcfs_image_record_in(db, "snap:1", "snapshot", "{}", "sha256:x", layers, 3, &e), 0);
	dcfs_snapshot_meta m = {.base_ref = "busybox:latest", .base_digest = "sha256:b",
				.folder = "/w", .config_file = "/w/.devcontainer.json", .key = "K",
				.config_hash = "C", .build_hash = "B", .stage = "postCreateCommand",
				.origin = "prebuild"};
	CHECK_INT(dcfs_snapshot_insert(db, "snap:1", &m, 0, &e), 0);
	CHECK_INT(dcfs_image_record_in(db, "snap:2", "image", cfg, "sha256:y", layers, 3, &e), 0);
	exec(db, "COMMIT");
	CHECK_INT(dcfs_image_make_snapshot(db, "snap:2", "$.config.Labels.\"dev.dcfs.snapshot.key\"", &e), 1);
	CHECK_INT(dcfs_image_make_snapshot(db, "busybox:latest", "$.config.Labels.\"dev.dcfs.snapshot.key\"", &e), 0);
	CHECK_INT(dcfs_snapshot_insert_from_labels(db, "snap:2", 1, &e), 0);

	dcfs_snapshot *list = NULL;
	size_t n = 0;
	CHECK_INT(dcfs_snapshot_list(s, &list, &n, &e), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(list[0].ref, "snap:2"); /* config_file '' sorts first */
		CHECK_STR(list[0].origin, "prebuild");
		CHECK_STR(list[1].ref, "snap:1");
		CHECK_INT(list[1].size, 7);
		CHECK(!list[1].reclaimable && !list[1].used_by);
	}
	dcfs_snapshot_list_free(list, n);

	dcfs_snapshot sn;
	CHECK_INT(dcfs_snapshot_find(s, "K", "/w/.devcontainer.json", &sn, &e), 0);
	CHECK_STR(sn.ref, "snap:1");
	dcfs_snapshot_free(&sn);
	CHECK_INT(dcfs_snapshot_find_config(s, "nope", &sn, &e), -ENOENT);

	int released = -1;
	CHECK_INT(dcfs_snapshot_retain(s, "/w/.devcontainer.json", 0, &released, &e), 0);
	CHECK_INT(released, 1);

	int problems[2] = {0, 0};
	CHECK_INT(dcfs_snapshot_check(db, count_problem, problems, &e), 0);
	CHECK(problems[0] == 0 && problems[1] == 0);
	exec(db, "UPDATE images SET kind = 'image' WHERE ref = 'snap:1'");
	CHECK_INT(dcfs_snapshot_check(db, count_problem, problems, &e), 0);
	CHECK(problems[0] == 0 && problems[1] == 1);
	CHECK_INT(dcfs_image_layers_drop_dangling(db, &e), 0);
	CHECK_INT(dcfs_merged_index_drop_dangling(db, &e), 0);

	CHECK_INT(dcfs_image_delete(db, "snap:1", &e), 1);
	CHECK_INT(dcfs_image_delete(db, "snap:1", &e), 0);
	CHECK_INT(dcfs_image_remove(s, "snap:2", &e), 0);
	CHECK_INT(dcfs_image_remove(s, "snap:2", &e), -ENOENT);
	CHECK_STR(e.msg, "no such image: 'snap:2'");
	CHECK_INT(dcfs_snapshot_list(s, &list, &n, &e), 0);
	CHECK_INT(n, 0);
	dcfs_snapshot_list_free(list, n);
	dcfs_error_clear(&e);
}

int main(void)
{
	tmp_store t;
	dcfs_store *s = tmp_store_open(&t, "image-table");
	if (s) {
		add_layers(s->db);
		test_images(s);
		test_snapshots(s);
	}
	tmp_store_remove(&t);
	return tap_done();
}
