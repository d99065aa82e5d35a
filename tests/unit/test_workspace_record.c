/* The owner of `workspaces` (fs/store/workspace_record.h) on a real catalog in a temporary
 * folder: a row written, rewritten, asked whether it is in use, forgotten, and the sums fsck
 * recomputes equal to those the triggers keep. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "tap.h"
#include "workspace_record.h"

typedef struct sums {
	int n;
	char names[4][32];
	int64_t values[4];
} sums;

static int on_sum(const char *name, int64_t value, void *u)
{
	sums *s = u;
	if (s->n < 4) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
		s->values[s->n] = value;
	}
	s->n++;
	return 0;
}

static void check_sums(sqlite3 *db, int64_t rows, int64_t in_use, int64_t bytes)
{
	static const char *const names[] = {"workspaces", "workspaces_in_use", "workspace_bytes"};
	int64_t want[] = {rows, in_use, bytes};
	sums s = {0};
	dcfs_error e = {0};
	CHECK_INT(dcfs_workspace_record_sums(db, on_sum, &s, &e), 0);
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
	const char *tmp = getenv("TMPDIR");
	char dir[4096], path[4200];
	snprintf(dir, sizeof(dir), "%s/dcfs-test-workspace-record-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/catalog.db", dir);
	sqlite3 *db = NULL;
	dcfs_error e = {0};
	if (!CHECK(dcfs_catalog_open(path, &db, &e) == 0 && db)) {
		tap_diag("  %s", e.msg ? e.msg : "?");
		return tap_done();
	}
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
	sqlite3_close(db);

	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < 4; i++) {
		char f[4300];
		snprintf(f, sizeof(f), "%s%s", path, suffixes[i]);
		unlink(f);
	}
	CHECK(rmdir(dir) == 0);
	return tap_done();
}
