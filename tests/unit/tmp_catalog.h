/* A real catalog in a fresh temporary folder (under $TMPDIR), for the unit tests of the table
 * owners in fs/store/: made and opened in one call, removed with its folder in another. */
#pragma once

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "catalog.h"
#include "tap.h"

typedef struct tmp_catalog {
	char dir[4096], path[4200];
	sqlite3 *db;
} tmp_catalog;

/* Remove the catalog file at `path` and SQLite's files beside it. */
__attribute__((unused)) static void tmp_catalog_remove_files(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < 4; i++) {
		char f[4300];
		snprintf(f, sizeof(f), "%s%s", path, suffixes[i]);
		unlink(f);
	}
}

/* Make the folder (named after `name`) and open a new catalog in it: t->db, or NULL (said). */
__attribute__((unused)) static sqlite3 *tmp_catalog_open(tmp_catalog *t, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(t->dir, sizeof(t->dir), "%s/dcfs-test-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	t->db = NULL;
	if (!mkdtemp(t->dir)) {
		tap_diag("mkdtemp: %m");
		return NULL;
	}
	snprintf(t->path, sizeof(t->path), "%s/catalog.db", t->dir);
	dcfs_error e = {0};
	if (!CHECK(dcfs_catalog_open(t->path, &t->db, &e) == 0 && t->db))
		tap_diag("  %s", e.msg ? e.msg : "?");
	dcfs_error_clear(&e);
	return t->db;
}

/* (name, value) pairs an owner's sums give, collected by tmp_pairs_add(). */
typedef struct tmp_pairs {
	int n;
	char names[8][32];
	int64_t values[8];
} tmp_pairs;

__attribute__((unused)) static int tmp_pairs_add(const char *name, int64_t value, void *u)
{
	tmp_pairs *p = u;
	if (p->n < 8) {
		snprintf(p->names[p->n], sizeof(p->names[0]), "%s", name);
		p->values[p->n] = value;
	}
	p->n++;
	return 0;
}

/* Close the catalog and remove it with its folder. */
__attribute__((unused)) static void tmp_catalog_remove(tmp_catalog *t)
{
	if (t->db)
		sqlite3_close(t->db);
	t->db = NULL;
	tmp_catalog_remove_files(t->path);
	CHECK(rmdir(t->dir) == 0);
}
