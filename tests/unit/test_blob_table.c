/* The owner of the `blobs` and `extents` tables (fs/store/blob_table.h) on a real catalog:
 * recording contents and their extents, finding them (and whether a chunk of one is quarantined),
 * listing a content's extents, fsck's checks and sums, gc's deletion. */
#include <string.h>

#include "blob_table.h"
#include "table_test.h"

/* The extents of `blob` as "off:chunk_off:len:seed," text. */
static void list_extents(dcfs_blob_extents *it, int64_t blob, char *out, size_t cap)
{
	dcfs_error e = {0};
	dcfs_blob_extents_start(it, blob);
	dcfs_blob_extent x;
	size_t used = 0;
	out[0] = 0;
	int r;
	while ((r = dcfs_blob_extents_next(it, &x, &e)) > 0 && used < cap)
		used += (size_t)snprintf(out + used, cap - used, "%llu:%llu:%llu:%d%s,",
					 (unsigned long long)x.file_off, (unsigned long long)x.chunk_off,
					 (unsigned long long)x.len, x.chunk.b[0], x.hashed ? "" : "?");
	if (r < 0)
		snprintf(out, cap, "error: %s", e.msg);
	dcfs_error_clear(&e);
}

int main(void)
{
	dcfs_staged_chunk staged[2] = {{hash_of(1), 100, 50}, {hash_of(2), 200, 80}};
	dcfs_error e = {0};
	tmp_catalog t;
	sqlite3 *db = tmp_catalog_open(&t, "blob-table");
	if (!db)
		return tap_done();
	CHECK_INT(dcfs_chunk_table_add(db, staged, 2, &e), 0);
	dcfs_chunk_finder cf = {0};
	CHECK_INT(dcfs_chunk_finder_init(&cf, db, &e), 0);
	dcfs_chunk_found chunk;
	CHECK_INT(dcfs_chunk_finder_find(&cf, &staged[0].hash, &chunk, &e), 1);
	int64_t c1 = chunk.id;
	CHECK_INT(dcfs_chunk_finder_find(&cf, &staged[1].hash, &chunk, &e), 1);
	int64_t c2 = chunk.id;

	/* A content of 100 bytes: 60 from chunk 1, a hole, 30 from chunk 2. */
	dcfs_blob_writer w = {0};
	CHECK_INT(dcfs_blob_writer_init(&w, db, &e), 0);
	dcfs_hash key = hash_of(7);
	int64_t id = 0;
	CHECK_INT(dcfs_blob_writer_add(&w, &key, 100, &id, &e), 0);
	CHECK(id > 0);
	CHECK_INT(dcfs_blob_writer_extent(&w, id, 70, c2, 10, 30, &e), 0);
	CHECK_INT(dcfs_blob_writer_extent(&w, id, 0, c1, 0, 60, &e), 0);
	CHECK_INT(dcfs_catalog_sum(db, "blobs"), 1);
	CHECK_INT(dcfs_catalog_sum(db, "blob_bytes"), 100);
	CHECK_INT(dcfs_catalog_sum(db, "chunks_unref"), 0);

	dcfs_blob_finder bf = {0};
	CHECK_INT(dcfs_blob_finder_init(&bf, db, &e), 0);
	dcfs_blob_found found = {.damaged = true};
	CHECK_INT(dcfs_blob_finder_find(&bf, &key, &found, &e), 1);
	CHECK_INT(found.id, id);
	CHECK_INT(found.size, 100);
	CHECK(!found.damaged);
	dcfs_hash other = hash_of(8);
	CHECK_INT(dcfs_blob_finder_find(&bf, &other, &found, &e), 0);
	CHECK_INT(found.id, 0);

	/* Its extents in file order, with the same iterator used twice. */
	dcfs_blob_extents it = {0};
	CHECK_INT(dcfs_blob_extents_open(&it, db, &e), 0);
	char text[256];
	list_extents(&it, id, text, sizeof(text));
	CHECK_STR(text, "0:0:60:1,70:10:30:2,");
	list_extents(&it, id + 1, text, sizeof(text));
	CHECK_STR(text, "");
	list_extents(&it, id, text, sizeof(text));
	CHECK_STR(text, "0:0:60:1,70:10:30:2,");

	/* A quarantined chunk makes the content damaged. */
	CHECK_INT(dcfs_chunk_table_quarantine(db, &staged[1].hash, &e), 0);
	CHECK_INT(dcfs_blob_finder_find(&bf, &key, &found, &e), 1);
	CHECK(found.damaged);

	/* fsck: broken extents, reference counts, sums. */
	seen s = {0};
	CHECK_INT(dcfs_blob_table_extents_outside_chunk(db, on_blob, &s, &e), 0);
	CHECK_INT(dcfs_blob_table_extents_past_size(db, on_blob, &s, &e), 0);
	CHECK_INT(s.count, 0);
	CHECK_INT(dcfs_blob_writer_extent(&w, id, 90, c1, 95, 20, &e), 0);
	CHECK_INT(dcfs_blob_table_extents_outside_chunk(db, on_blob, &s, &e), 0);
	CHECK_INT(s.count, 1);
	CHECK_INT(s.id, id);
	CHECK_INT(dcfs_blob_table_extents_past_size(db, on_blob, &s, &e), 0);
	CHECK_INT(s.count, 2);
	CHECK_INT(dcfs_blob_table_drop_dangling_extents(db, &e), 0);

	check_wrong_refs(db, dcfs_blob_table_wrong_refs, dcfs_blob_table_set_refs, id, 2);

	dcfs_blob_figures fig = {0};
	CHECK_INT(dcfs_blob_table_figures(db, &fig, &e), 0);
	CHECK_INT(fig.blobs, 1);
	CHECK_INT(fig.bytes, 100);

	/* Healing: the extents go, new ones come. */
	CHECK_INT(dcfs_blob_writer_drop_extents(&w, id, &e), 0);
	list_extents(&it, id, text, sizeof(text));
	CHECK_STR(text, "");
	CHECK_INT(dcfs_catalog_sum(db, "chunks_unref"), 2);
	CHECK_INT(dcfs_blob_writer_extent(&w, id, 0, c1, 0, 100, &e), 0);
	list_extents(&it, id, text, sizeof(text));
	CHECK_STR(text, "0:0:100:1,");

	/* gc: a content in use stays; unused, it goes with its extents. */
	uint64_t deleted = 9;
	CHECK_INT(dcfs_blob_table_delete_unreferenced(db, &deleted, &e), 0);
	CHECK_INT(deleted, 0);
	CHECK_INT(dcfs_blob_table_set_refs(db, id, 0, &e), 0);
	CHECK_INT(dcfs_blob_table_delete_unreferenced(db, &deleted, &e), 0);
	CHECK_INT(deleted, 1);
	CHECK_INT(dcfs_blob_finder_find(&bf, &key, &found, &e), 0);
	list_extents(&it, id, text, sizeof(text));
	CHECK_STR(text, "");
	CHECK_INT(dcfs_catalog_sum(db, "blobs"), 0);
	CHECK_INT(dcfs_catalog_sum(db, "chunks_unref"), 2);

	dcfs_blob_extents_free(&it);
	dcfs_catalog_finder_free(&bf);
	dcfs_blob_writer_free(&w);
	dcfs_catalog_finder_free(&cf);
	dcfs_error_clear(&e);
	tmp_catalog_remove(&t);
	return tap_done();
}
