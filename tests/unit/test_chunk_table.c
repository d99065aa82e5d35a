/* The owner of the `chunks` table (fs/store/chunk_table.h) on a real catalog: recording staged
 * chunks, finding them, quarantine, fsck's rows, sizes, reference counts and sums, gc's
 * unreferenced chunks; and the `sums` helpers of catalog.c that fsck uses. */
#include <string.h>

#include "chunk_table.h"
#include "table_test.h"

static int stop_at_first(void *u, int64_t id, int64_t recorded, int64_t actual, dcfs_error *e)
{
	(void)u, (void)id, (void)recorded, (void)actual;
	return dcfs_error_set(e, EINTR, "stopped");
}

int main(void)
{
	tmp_catalog t;
	sqlite3 *db = tmp_catalog_open(&t, "chunk-table");
	if (!db)
		return tap_done();
	dcfs_error e = {0};
	dcfs_staged_chunk staged[3] = {{hash_of(1), 100, 50}, {hash_of(2), 200, 80}, {hash_of(3), 300, 90}};
	CHECK_INT(dcfs_chunk_table_add(db, staged, 3, &e), 0);
	CHECK_INT(dcfs_catalog_sum(db, "chunks"), 3);
	CHECK_INT(dcfs_catalog_sum(db, "chunk_stored"), 220);

	dcfs_chunk_finder f = {0};
	CHECK_INT(dcfs_chunk_finder_init(&f, db, &e), 0);
	dcfs_chunk_found found = {.id = -1, .quarantined = true};
	CHECK_INT(dcfs_chunk_finder_find(&f, &staged[1].hash, &found, &e), 1);
	int64_t id2 = found.id;
	CHECK(id2 > 0);
	CHECK(!found.quarantined);
	dcfs_hash unknown = hash_of(9);
	CHECK_INT(dcfs_chunk_finder_find(&f, &unknown, &found, &e), 0);
	CHECK_INT(found.id, 0);

	/* Quarantine, then a new copy of the chunk clears it and takes its stored size. */
	CHECK_INT(dcfs_chunk_table_quarantine(db, &staged[1].hash, &e), 0);
	CHECK_INT(dcfs_chunk_finder_find(&f, &staged[1].hash, &found, &e), 1);
	CHECK(found.quarantined);
	dcfs_staged_chunk again = {hash_of(2), 200, 70};
	CHECK_INT(dcfs_chunk_table_add(db, &again, 1, &e), 0);
	CHECK_INT(dcfs_chunk_finder_find(&f, &staged[1].hash, &found, &e), 1);
	CHECK(!found.quarantined);
	CHECK_INT(dcfs_catalog_sum(db, "chunk_stored"), 210);

	/* fsck's view of the rows, and its repairs. */
	CHECK_INT(dcfs_chunk_table_set_size(db, id2, DCFS_CHUNK_PLAIN_SIZE, 123, &e), 0);
	CHECK_INT(dcfs_chunk_table_set_size(db, id2, DCFS_CHUNK_STORED_SIZE, 71, &e), 0);
	dcfs_chunk_rows rows = {0};
	CHECK_INT(dcfs_chunk_rows_open(&rows, db, &e), 0);
	dcfs_chunk_row row;
	int n = 0, r;
	bool listed = false;
	while ((r = dcfs_chunk_rows_next(&rows, &row, &e)) > 0) {
		n++;
		CHECK(row.hashed);
		if (row.id == id2) {
			listed = true;
			CHECK_INT(row.plain_size, 123);
			CHECK_INT(row.stored_size, 71);
			CHECK_INT(row.refs, 0);
			CHECK(!memcmp(row.hash.b, staged[1].hash.b, DCFS_HASH_LEN));
		}
	}
	CHECK_INT(r, 0);
	CHECK_INT(n, 3);
	CHECK(listed);
	dcfs_chunk_rows_free(&rows);

	check_wrong_refs(db, dcfs_chunk_table_wrong_refs, dcfs_chunk_table_set_refs, id2, 4);

	/* The sums recomputed from the rows. */
	dcfs_chunk_figures fig = {0};
	CHECK_INT(dcfs_chunk_table_figures(db, &fig, &e), 0);
	CHECK_INT(fig.chunks, 3);
	CHECK_INT(fig.plain, 100 + 123 + 300);
	CHECK_INT(fig.stored, 50 + 71 + 90);
	CHECK_INT(fig.unref, 2);
	CHECK_INT(fig.unref_stored, 50 + 90);
	/* a callback's error ends the walk and comes back */
	CHECK_INT(dcfs_chunk_table_wrong_refs(db, stop_at_first, NULL, &e), -EINTR);
	CHECK_STR(e.msg, "stopped");
	dcfs_error_clear(&e);

	/* The sums table's helpers. */
	int64_t v = -1;
	bool integer = false;
	CHECK_INT(dcfs_catalog_sum_recorded(db, "chunks", &v, &integer, &e), 0);
	CHECK_INT(v, 3);
	CHECK(integer);
	CHECK_INT(dcfs_catalog_sum_set(db, "chunks", 42, &e), 0);
	CHECK_INT(dcfs_catalog_sum(db, "chunks"), 42);
	CHECK_INT(dcfs_catalog_sum_set(db, "chunks", 3, &e), 0);
	CHECK_INT(dcfs_catalog_sum_recorded(db, "no such sum", &v, &integer, &e), 0);
	CHECK_INT(v, 0);
	CHECK(integer);

	/* gc: the unreferenced chunks, then their rows go. */
	CHECK_INT(dcfs_chunk_table_set_refs(db, id2, 1, &e), 0);
	dcfs_hash *dead = NULL;
	size_t ndead = 0;
	CHECK_INT(dcfs_chunk_table_unreferenced(db, &dead, &ndead, &e), 0);
	CHECK_INT(ndead, 2);
	bool first = false, third = false;
	for (size_t i = 0; i < ndead; i++) {
		first |= !memcmp(dead[i].b, staged[0].hash.b, DCFS_HASH_LEN);
		third |= !memcmp(dead[i].b, staged[2].hash.b, DCFS_HASH_LEN);
	}
	CHECK(first && third);
	free(dead);
	uint64_t deleted = 0;
	CHECK_INT(dcfs_chunk_table_delete_unreferenced(db, &deleted, &e), 0);
	CHECK_INT(deleted, 2);
	CHECK_INT(dcfs_chunk_finder_find(&f, &staged[0].hash, &found, &e), 0);
	CHECK_INT(dcfs_chunk_finder_find(&f, &staged[1].hash, &found, &e), 1);
	CHECK_INT(dcfs_catalog_sum(db, "chunks"), 1);

	dcfs_catalog_finder_free(&f);
	dcfs_error_clear(&e);
	tmp_catalog_remove(&t);
	return tap_done();
}
