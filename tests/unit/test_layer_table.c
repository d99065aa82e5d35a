/* The owner of `layers` and `entries` (fs/store/layer_table.h) on a real catalog in a temporary
 * folder: layer rows found by digest and source, entries written and read back in path order
 * (all, hardlinks, the others), the counts and sums fsck recomputes, the entry checks, du's
 * questions, and deleting unreferenced layers and dangling entries. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "entry.h"
#include "layer_table.h"
#include "tap.h"
#include "tmp_catalog.h"

static int64_t count(sqlite3 *db, const char *sql)
{
	int64_t v = -1;
	dcfs_error e = {0};
	if (dcfs_catalog_int(db, sql, NULL, &v, &e) < 0)
		tap_diag("SQL failed: %s: %s", sql, e.msg ? e.msg : "?");
	dcfs_error_clear(&e);
	return v;
}

static void exec(sqlite3 *db, const char *sql)
{
	dcfs_error e = {0};
	if (dcfs_catalog_exec(db, sql, &e) < 0)
		tap_diag("SQL failed: %s: %s", sql, e.msg ? e.msg : "?");
	dcfs_error_clear(&e);
}

typedef struct seen {
	int n;
	int64_t id, recorded, actual;
	char names[8][32];
	int64_t values[8];
} seen;

static int on_count(int64_t id, int64_t recorded, int64_t actual, void *u)
{
	seen *s = u;
	s->n++;
	s->id = id;
	s->recorded = recorded;
	s->actual = actual;
	return 0;
}

static int on_layer(int64_t layer_id, void *u)
{
	seen *s = u;
	s->n++;
	s->id = layer_id;
	return 0;
}

static int on_size(const dcfs_entry_size_problem *p, void *u)
{
	seen *s = u;
	if (s->n < 8) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", p->path);
		s->values[s->n] = p->out_of_range;
	}
	s->n++;
	return 0;
}

static int add(dcfs_entry_writer *w, const char *path, char type, uint64_t size,
	       const char *target, int64_t blob_id)
{
	dcfs_error e = {0};
	dcfs_entry_row row = {.path = path, .type = type, .mode = 0644, .uid = 1, .gid = 2,
			      .mtime_ns = 123456789, .size = size, .target = target,
			      .blob_id = blob_id};
	if (!strcmp(path, "a")) {
		row.xattrs = "\x04\x00user\x01\x00\x00\x00x";
		row.xattrs_len = 11;
	}
	int r = dcfs_entry_writer_add(w, &row, &e);
	if (r < 0)
		tap_diag("adding '%s': %s", path, e.msg ? e.msg : "?");
	dcfs_error_clear(&e);
	return r;
}

/* dcfs_entry_each_links_last()'s callback: the paths joined with ','. */
static int join_path(const dcfs_entry_row *en, void *u, dcfs_error *e)
{
	(void)e;
	char *out = u;
	size_t len = strlen(out);
	snprintf(out + len, 256 - len, "%s%s", len ? "," : "", *en->path ? en->path : "/");
	return 0;
}

/* The paths an iterator gives, joined with ','. */
static void walk(sqlite3 *db, int64_t layer, dcfs_entry_select which, char *out, size_t len)
{
	dcfs_error e = {0};
	dcfs_entry_iter it;
	*out = '\0';
	int r = dcfs_entry_iter_open(db, layer, which, &it, &e);
	while (r >= 0 && (r = dcfs_entry_iter_next(&it, &e)) > 0)
		snprintf(out + strlen(out), len - strlen(out), "%s%s", *out ? "," : "",
			 *it.row.path ? it.row.path : "/");
	CHECK_INT(r, 0);
	dcfs_entry_iter_free(&it);
	dcfs_error_clear(&e);
}

static void test_rows(sqlite3 *db, int64_t *layer_out)
{
	dcfs_error e = {0};
	int64_t id = -1;
	CHECK_INT(dcfs_layer_find_by_digest(db, "sha256:none", &id, &e), 0);
	CHECK_INT(id, 0);
	dcfs_layer_row row = {.digest = "sha256:aa", .source = "dir:/x", .entries = 4, .files = 1,
			      .size = 5};
	int64_t layer = 0;
	CHECK_INT(dcfs_layer_insert(db, &row, &layer, &e), 0);
	CHECK(layer > 0);
	CHECK_INT(dcfs_layer_find_by_digest(db, "sha256:aa", &id, &e), 1);
	CHECK_INT(id, layer);
	CHECK_INT(dcfs_layer_find_by_source(db, "dir:/x", &id, &e), 1);
	CHECK_INT(id, layer);
	CHECK_INT(dcfs_layer_find_by_source(db, "dir:/y", &id, &e), 0);
	CHECK_INT(id, 0);
	/* A second row with the same digest is refused, with a message. */
	CHECK(dcfs_layer_insert(db, &row, &id, &e) < 0 && e.msg);
	dcfs_error_clear(&e);
	*layer_out = layer;
}

static void test_entries(sqlite3 *db, int64_t layer)
{
	exec(db, "INSERT INTO blobs(hash, size) VALUES (zeroblob(32), 5)");
	int64_t blob = count(db, "SELECT id FROM blobs");
	dcfs_error e = {0};
	dcfs_entry_writer w;
	CHECK_INT(dcfs_entry_writer_open(db, layer, &w, &e), 0);
	/* out of order on purpose: the iterator sorts by path */
	CHECK_INT(add(&w, "c", DCFS_T_SYMLINK, 0, "a", 0), 0);
	CHECK_INT(add(&w, "", DCFS_T_DIR, 0, NULL, 0), 0);
	CHECK_INT(add(&w, "b", DCFS_T_HARDLINK, 5, "a", 0), 0);
	CHECK_INT(add(&w, "a", DCFS_T_FILE, 5, NULL, blob), 0);
	dcfs_entry_writer_free(&w);
	CHECK_INT(count(db, "SELECT refs FROM blobs"), 1);

	char paths[256];
	walk(db, layer, DCFS_ENTRIES_ALL, paths, sizeof(paths));
	CHECK_STR(paths, "/,a,b,c");
	walk(db, layer, DCFS_ENTRIES_NOT_HARDLINKS, paths, sizeof(paths));
	CHECK_STR(paths, "/,a,c");
	walk(db, layer, DCFS_ENTRIES_HARDLINKS, paths, sizeof(paths));
	CHECK_STR(paths, "b");
	walk(db, layer + 1, DCFS_ENTRIES_ALL, paths, sizeof(paths));
	CHECK_STR(paths, "");
	/* hardlinks last, after their targets */
	paths[0] = '\0';
	CHECK_INT(dcfs_entry_each_links_last(db, layer, join_path, paths, &e), 0);
	CHECK_STR(paths, "/,a,c,b");

	/* Every field comes back as written. */
	dcfs_entry_iter it;
	CHECK_INT(dcfs_entry_iter_open(db, layer, DCFS_ENTRIES_ALL, &it, &e), 0);
	CHECK_INT(dcfs_entry_iter_next(&it, &e), 1);
	CHECK(it.row.type == DCFS_T_DIR && it.row.blob_id == 0 && it.row.target == NULL);
	CHECK(it.row.xattrs == NULL && it.row.xattrs_len == 0);
	CHECK_INT(dcfs_entry_iter_next(&it, &e), 1);
	CHECK_STR(it.row.path, "a");
	CHECK(it.row.type == DCFS_T_FILE && it.row.mode == 0644 && it.row.uid == 1 &&
	      it.row.gid == 2 && it.row.mtime_ns == 123456789 && it.row.size == 5 && !it.row.opaque);
	CHECK_INT(it.row.blob_id, blob);
	CHECK(it.row.xattrs_len == 11 && !memcmp(it.row.xattrs, "\x04\x00user", 6));
	CHECK_INT(dcfs_entry_iter_next(&it, &e), 1);
	CHECK_STR(it.row.target, "a");
	CHECK_INT(dcfs_entry_iter_next(&it, &e), 1);
	CHECK(it.row.type == DCFS_T_SYMLINK);
	CHECK_INT(dcfs_entry_iter_next(&it, &e), 0);
	dcfs_entry_iter_free(&it);
	dcfs_error_clear(&e);
}

static void test_checks(sqlite3 *db, int64_t layer)
{
	dcfs_error e = {0};
	static const dcfs_layer_count all[] = {DCFS_LAYER_REFS, DCFS_LAYER_SIZE, DCFS_LAYER_ENTRIES};
	for (size_t i = 0; i < 3; i++) {
		seen s = {0};
		CHECK_INT(dcfs_layer_count_mismatches(db, all[i], on_count, &s, &e), 0);
		CHECK_INT(s.n, 0);
	}
	exec(db, "UPDATE layers SET size = 99");
	seen s = {0};
	CHECK_INT(dcfs_layer_count_mismatches(db, DCFS_LAYER_SIZE, on_count, &s, &e), 0);
	CHECK(s.n == 1 && s.id == layer && s.recorded == 99 && s.actual == 5);
	CHECK_INT(dcfs_layer_count_set(db, DCFS_LAYER_SIZE, layer, 5, &e), 0);
	s = (seen){0};
	CHECK_INT(dcfs_layer_count_mismatches(db, DCFS_LAYER_SIZE, on_count, &s, &e), 0);
	CHECK_INT(s.n, 0);

	/* The sums, recomputed, equal what the triggers kept. */
	tmp_pairs sums = {0};
	CHECK_INT(dcfs_layer_sums(db, tmp_pairs_add, &sums, &e), 0);
	CHECK_INT(sums.n, 4);
	static const char *const names[] = {"layers", "layer_bytes", "layers_unref",
					    "layer_unref_bytes"};
	static const int64_t values[] = {1, 5, 1, 5};
	for (int i = 0; i < 4; i++) {
		CHECK_STR(sums.names[i], names[i]);
		CHECK_INT(sums.values[i], values[i]);
		CHECK_INT(dcfs_catalog_sum(db, names[i]), values[i]);
	}

	/* du: no image holds the layer */
	int64_t bytes = -1;
	CHECK_INT(dcfs_layer_bytes_of_snapshots_only(db, &bytes, &e), 0);
	CHECK_INT(bytes, 0);
	CHECK_INT(dcfs_layer_bytes_used_by_containers(db, &bytes, &e), 0);
	CHECK_INT(bytes, 0);
	CHECK_INT(dcfs_layer_bytes_of_reclaimable_snapshots(db, &bytes, &e), 0);
	CHECK_INT(bytes, 0);

	/* Entries fsck reports: a file without content, sizes out of range or not the content's. */
	dcfs_entry_writer w;
	CHECK_INT(dcfs_entry_writer_open(db, layer, &w, &e), 0);
	int64_t blob = count(db, "SELECT id FROM blobs");
	CHECK_INT(add(&w, "empty", DCFS_T_FILE, 3, NULL, 0), 0);
	CHECK_INT(add(&w, "wrong", DCFS_T_FILE, 6, NULL, blob), 0);
	CHECK_INT(add(&w, "huge", DCFS_T_FILE, DCFS_LAYER_BYTES_MAX + 1, NULL, blob), 0);
	dcfs_entry_writer_free(&w);
	s = (seen){0};
	CHECK_INT(dcfs_entry_files_without_content(db, on_layer, &s, &e), 0);
	CHECK(s.n == 1 && s.id == layer);
	s = (seen){0};
	CHECK_INT(dcfs_entry_size_problems(db, on_size, &s, &e), 0);
	CHECK_INT(s.n, 2);
	CHECK(!strcmp(s.names[0], "huge") && s.values[0] == 1);
	CHECK(!strcmp(s.names[1], "wrong") && s.values[1] == 0);
	s = (seen){0};
	CHECK_INT(dcfs_layer_count_mismatches(db, DCFS_LAYER_ENTRIES, on_count, &s, &e), 0);
	CHECK(s.n == 1 && s.recorded == 4 && s.actual == 7);
	dcfs_error_clear(&e);
}

static void test_delete(sqlite3 *db, int64_t layer)
{
	dcfs_error e = {0};
	/* An entry whose layer is gone (foreign keys were off) goes. */
	exec(db, "PRAGMA foreign_keys = OFF");
	dcfs_entry_writer w;
	CHECK_INT(dcfs_entry_writer_open(db, layer + 100, &w, &e), 0);
	CHECK_INT(add(&w, "orphan", DCFS_T_DIR, 0, NULL, 0), 0);
	dcfs_entry_writer_free(&w);
	exec(db, "PRAGMA foreign_keys = ON");
	CHECK_INT(dcfs_entry_drop_dangling(db, &e), 0);
	CHECK_INT(count(db, "SELECT count(*) FROM entries WHERE path = 'orphan'"), 0);
	CHECK_INT(count(db, "SELECT count(*) FROM entries"), 7);

	uint64_t n = 99;
	CHECK_INT(dcfs_layer_delete_unreferenced(db, &n, &e), 0);
	CHECK_INT(n, 1);
	CHECK_INT(count(db, "SELECT count(*) FROM entries"), 0);
	CHECK_INT(count(db, "SELECT refs FROM blobs"), 0);
	CHECK_INT(dcfs_catalog_sum(db, "layers"), 0);
	CHECK_INT(dcfs_layer_delete_unreferenced(db, &n, &e), 0);
	CHECK_INT(n, 0);
	dcfs_error_clear(&e);
}

int main(void)
{
	tmp_catalog t;
	sqlite3 *db = tmp_catalog_open(&t, "layer-table");
	if (!db)
		return tap_done();
	int64_t layer = 0;
	test_rows(db, &layer);
	test_entries(db, layer);
	test_checks(db, layer);
	test_delete(db, layer);
	tmp_catalog_remove(&t);
	return tap_done();
}
