/* For the unit tests of the table owners: a catalog in a fresh temporary folder (and its removal
 * at the end), made-up hashes, callbacks that record what an owner's iteration gave, and the
 * reference-count check every owner of counted rows has. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "hash.h"
#include "tap.h"

typedef struct tmp_catalog {
	char dir[4096];
	sqlite3 *db;
} tmp_catalog;

/* Open a new catalog in a new folder named after `what`; NULL (with a diagnostic) on failure. */
__attribute__((unused)) static sqlite3 *tmp_catalog_open(tmp_catalog *t, const char *what)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(t->dir, sizeof(t->dir), "%s/dcfs-test-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", what);
	t->db = NULL;
	if (!mkdtemp(t->dir)) {
		perror("mkdtemp");
		return NULL;
	}
	char path[4200];
	snprintf(path, sizeof(path), "%s/catalog.db", t->dir);
	dcfs_error e = {0};
	int r = dcfs_catalog_open(path, &t->db, &e);
	if (!tap_result(r == 0 && t->db, __FILE__, __LINE__, "a new catalog opens"))
		tap_diag("  %s", e.msg ? e.msg : "?");
	dcfs_error_clear(&e);
	return t->db;
}

__attribute__((unused)) static void tmp_catalog_remove(tmp_catalog *t)
{
	sqlite3_close(t->db);
	static const char *const names[] = {"catalog.db", "catalog.db-wal", "catalog.db-shm"};
	char path[4200];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, names[i]);
		unlink(path);
	}
	rmdir(t->dir);
}

__attribute__((unused)) static dcfs_hash hash_of(unsigned char seed)
{
	dcfs_hash h;
	memset(h.b, seed, sizeof(h.b));
	return h;
}

/* What the callbacks below saw: how many calls, the last id and counts. */
typedef struct seen {
	int count;
	int64_t id, recorded, actual;
} seen;

__attribute__((unused)) static int on_mismatch(void *u, int64_t id, int64_t recorded,
					       int64_t actual, dcfs_error *e)
{
	(void)e;
	seen *s = u;
	*s = (seen){.count = s->count + 1, .id = id, .recorded = recorded, .actual = actual};
	return 0;
}

__attribute__((unused)) static int on_blob(void *u, int64_t blob_id, dcfs_error *e)
{
	(void)e;
	seen *s = u;
	s->id = blob_id;
	s->count++;
	return 0;
}

/* An owner's reference-count check finds no wrong row; once `set` gives row `id` a count of
 * `refs` (the rows say 0), it finds that row alone, with both counts. */
__attribute__((unused)) static void check_wrong_refs(
	sqlite3 *db, int (*wrong)(sqlite3 *, dcfs_catalog_mismatch_fn, void *, dcfs_error *),
	int (*set)(sqlite3 *, int64_t, int64_t, dcfs_error *), int64_t id, int64_t refs)
{
	dcfs_error e = {0};
	seen s = {0};
	CHECK_INT(wrong(db, on_mismatch, &s, &e), 0);
	CHECK_INT(s.count, 0);
	CHECK_INT(set(db, id, refs, &e), 0);
	CHECK_INT(wrong(db, on_mismatch, &s, &e), 0);
	CHECK_INT(s.count, 1);
	CHECK_INT(s.id, id);
	CHECK_INT(s.recorded, refs);
	CHECK_INT(s.actual, 0);
	dcfs_error_clear(&e);
}
