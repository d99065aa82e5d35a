/* A catalog in a fresh temporary folder for the unit tests of the table owners, and its removal
 * at the end. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "catalog.h"
#include "tap.h"

typedef struct tmp_catalog {
	char dir[4096];
	sqlite3 *db;
} tmp_catalog;

/* Open a new catalog in a new folder named after `what`; false (with a diagnostic) on failure. */
__attribute__((unused)) static bool tmp_catalog_open(tmp_catalog *t, const char *what)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(t->dir, sizeof(t->dir), "%s/dcfs-test-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", what);
	t->db = NULL;
	if (!mkdtemp(t->dir)) {
		perror("mkdtemp");
		return false;
	}
	char path[4200];
	snprintf(path, sizeof(path), "%s/catalog.db", t->dir);
	dcfs_error e = {0};
	int r = dcfs_catalog_open(path, &t->db, &e);
	if (!tap_result(r == 0 && t->db, __FILE__, __LINE__, "a new catalog opens"))
		tap_diag("  %s", e.msg ? e.msg : "?");
	dcfs_error_clear(&e);
	return t->db != NULL;
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
