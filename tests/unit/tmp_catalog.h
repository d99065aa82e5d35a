/* A real catalog, or a whole store, in a fresh temporary folder (under $TMPDIR), for the unit
 * tests of the table owners in fs/store/: made and opened in one call, removed with its folder in
 * another. */
#pragma once

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "catalog.h"
#include "fsutil.h"
#include "store.h"
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

/* Make a new folder, its path in dir, named after `name` under $TMPDIR (or /tmp);
 * false (said) when it cannot. */
__attribute__((unused)) static bool tmp_dir_make(char dir[4096], const char *name)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, 4096, "%s/dcfs-test-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	if (!mkdtemp(dir)) {
		tap_diag("mkdtemp: %m");
		return false;
	}
	return true;
}

/* Make the folder (named after `name`) and open a new catalog in it: t->db, or NULL (said). */
__attribute__((unused)) static sqlite3 *tmp_catalog_open(tmp_catalog *t, const char *name)
{
	t->db = NULL;
	if (!tmp_dir_make(t->dir, name))
		return NULL;
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

/* A store (fs/store/store.h) in a fresh temporary folder. */
typedef struct tmp_store {
	char dir[4096];
	dcfs_store *s;
} tmp_store;

/* Make the folder (named after `name`) and open a new store in it for writing: t->s, or NULL
 * (said). */
__attribute__((unused)) static dcfs_store *tmp_store_open(tmp_store *t, const char *name)
{
	t->s = NULL;
	if (!tmp_dir_make(t->dir, name))
		return NULL;
	dcfs_error e = {0};
	int r = dcfs_store_open(t->dir, DCFS_STORE_WRITE, &t->s, &e);
	if (!tap_result(r == 0 && t->s, __FILE__, __LINE__, "a new store opens"))
		tap_diag("  %s", e.msg ? e.msg : "?");
	dcfs_error_clear(&e);
	return t->s;
}

/* Close the store and remove it with its folder. */
__attribute__((unused)) static void tmp_store_remove(tmp_store *t)
{
	if (t->s)
		dcfs_store_close(t->s);
	t->s = NULL;
	if (dcfs_rm_rf(t->dir) < 0)
		tap_diag("could not remove %s", t->dir);
}
