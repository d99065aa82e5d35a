/* The owner of `workspaces` (fs/store/workspace_record.h) on a real catalog in a temporary
 * folder: a row written, rewritten, asked whether it is in use, forgotten, and the sums fsck
 * recomputes equal to those the triggers keep. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "tap.h"
#include "tmp_catalog.h"
#include "workspace_record.h"

static void check_sums(sqlite3 *db, int64_t rows, int64_t in_use, int64_t bytes)
{
	static const char *const names[] = {"workspaces", "workspaces_in_use", "workspace_bytes"};
	int64_t want[] = {rows, in_use, bytes};
	tmp_pairs s = {0};
	dcfs_error e = {0};
	CHECK_INT(dcfs_workspace_record_sums(db, tmp_pairs_add, &s, &e), 0);
	CHECK_INT(s.n, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_STR(s.names[i], names[i]);
		CHECK_INT(s.values[i], want[i]);
		CHECK_INT(dcfs_catalog_sum(db, names[i]), want[i]);
	}
	dcfs_error_clear(&e);
}

int main(void)
{
	tmp_catalog t;
	sqlite3 *db = tmp_catalog_open(&t, "workspace-record");
	if (!db)
		return tap_done();
	dcfs_error e = {0};
	check_sums(db, 0, 0, 0);
	CHECK_INT(dcfs_workspace_record_in_use(db, "/w", &e), 0);
	CHECK_INT(dcfs_workspace_record_write(db, "/w", 10, 2, true, &e), 0);
	CHECK_INT(dcfs_workspace_record_in_use(db, "/w", &e), 1);
	check_sums(db, 1, 1, 10);
	CHECK_INT(dcfs_workspace_record_write(db, "/v", 5, 1, true, &e), 0);
	CHECK_INT(dcfs_workspace_record_write(db, "/w", 20, 3, false, &e), 0);
	CHECK_INT(dcfs_workspace_record_in_use(db, "/w", &e), 0);
	CHECK_INT(dcfs_workspace_record_in_use(db, "/v", &e), 1);
	check_sums(db, 2, 1, 25);
	CHECK_INT(dcfs_workspace_record_forget(db, "/w", &e), 0);
	CHECK_INT(dcfs_workspace_record_forget(db, "/missing", &e), 0);
	check_sums(db, 1, 1, 5);
	CHECK_INT(dcfs_workspace_record_in_use(db, "/w", &e), 0);
	dcfs_error_clear(&e);
	tmp_catalog_remove(&t);
	return tap_done();
}
