/* The owner of `pushed_blobs` (fs/store/pushed_blob_table.h) on a real catalog in a temporary
 * folder: a blob never pushed is not found; one pushed is found, preferring the registry and
 * then the repository asked about; recording it again replaces the row; it goes with its layer. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "layer_table.h"
#include "pushed_blob_table.h"
#include "tap.h"
#include "tmp_catalog.h"

static int add(sqlite3 *db, int64_t layer, const char *digest, uint64_t size, const char *registry,
	       const char *repository)
{
	dcfs_error e = {0};
	dcfs_pushed_blob_row row = {.layer_id = layer, .compression = "gzip", .digest = digest,
				    .diff_id = "sha256:diff", .size = size, .registry = registry,
				    .repository = repository};
	int r = dcfs_pushed_blob_add(db, &row, &e);
	dcfs_error_clear(&e);
	return r;
}

int main(void)
{
	tmp_catalog t;
	sqlite3 *db = tmp_catalog_open(&t, "pushed-blob");
	if (!db)
		return tap_done();
	dcfs_error e = {0};
	int64_t layer = 0;
	dcfs_layer_row lr = {.digest = "sha256:l", .source = "test"};
	CHECK_INT(dcfs_layer_insert(db, &lr, &layer, &e), 0);

	dcfs_pushed_blob b;
	CHECK_INT(dcfs_pushed_blob_find(db, layer, "gzip", "r1", "a", &b, &e), 0);
	CHECK_INT(add(db, layer, "sha256:one", 10, "r1", "a"), 0);
	CHECK_INT(add(db, layer, "sha256:one", 10, "r2", "b"), 0);
	CHECK_INT(add(db, layer, "sha256:one", 10, "r2", "c"), 0);

	/* this registry and repository */
	CHECK_INT(dcfs_pushed_blob_find(db, layer, "gzip", "r2", "c", &b, &e), 1);
	CHECK_STR(b.repository, "c");
	CHECK_STR(b.digest, "sha256:one");
	CHECK_STR(b.diff_id, "sha256:diff");
	CHECK_INT(b.size, 10);
	/* another repository of this registry */
	CHECK_INT(dcfs_pushed_blob_find(db, layer, "gzip", "r1", "z", &b, &e), 1);
	CHECK_STR(b.repository, "a");
	/* only another registry has it */
	CHECK_INT(dcfs_pushed_blob_find(db, layer, "gzip", "r3", "a", &b, &e), 1);
	CHECK_STR(b.repository, "");
	/* another compression was never pushed */
	CHECK_INT(dcfs_pushed_blob_find(db, layer, "zstd", "r1", "a", &b, &e), 0);

	/* Recording again replaces the row. */
	CHECK_INT(add(db, layer, "sha256:two", 12, "r1", "a"), 0);
	CHECK_INT(dcfs_pushed_blob_find(db, layer, "gzip", "r1", "a", &b, &e), 1);
	CHECK_STR(b.digest, "sha256:two");
	CHECK_INT(b.size, 12);

	/* The rows go with their layer. */
	uint64_t n = 0;
	CHECK_INT(dcfs_layer_delete_unreferenced(db, &n, &e), 0);
	CHECK_INT(dcfs_pushed_blob_find(db, layer, "gzip", "r1", "a", &b, &e), 0);
	/* A blob of a layer that does not exist is refused with a message. */
	CHECK(add(db, layer + 1, "sha256:x", 1, "r1", "a") < 0);
	dcfs_error_clear(&e);
	tmp_catalog_remove(&t);
	return tap_done();
}
