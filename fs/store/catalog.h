/* The SQLite catalog: opening, migrating and small query helpers.
 *
 * The catalog runs in WAL mode with foreign keys on and synchronous=FULL, so a committed
 * transaction survives a crash. Its schema is in catalog_schema.c and described in doc/store.md. */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"
#include "error.h"

/* The catalog version this dcfs writes (its schema: fs/store/schema_internal.h). */
extern const int dcfs_catalog_version;

/* Open (creating when missing) and migrate the catalog at `path`. */
int dcfs_catalog_open(const char *path, sqlite3 **out, dcfs_error *e);

/* Run SQL that returns no rows. */
int dcfs_catalog_exec(sqlite3 *db, const char *sql, dcfs_error *e);

/* Run one statement that returns no rows; *changes receives the rows it changed (0 on error). */
int dcfs_catalog_exec_count(sqlite3 *db, const char *sql, uint64_t *changes, dcfs_error *e);

/* Undo the open transaction, if any (on an error path: nothing to report). */
void dcfs_catalog_rollback(sqlite3 *db);

/* Close a connection (NULL is fine) and forget it: a daemon reopens its own after detaching. */
void dcfs_catalog_close(sqlite3 **db);

/* The rows changed by the connection's statements so far (to count what a repair changed). */
int64_t dcfs_catalog_total_changes(sqlite3 *db);

/* SQLite's own check of the file: `each(line, u)` for every line of PRAGMA quick_check other
 * than "ok"; *ok is set when it said "ok". */
int dcfs_catalog_quick_check(sqlite3 *db, void (*each)(const char *line, void *u), void *u,
			     bool *ok, dcfs_error *e);

/* Rows whose parent row is gone (PRAGMA foreign_key_check): `each(table, parent, u)`. */
int dcfs_catalog_foreign_key_check(sqlite3 *db,
				   void (*each)(const char *table, const char *parent, void *u),
				   void *u, dcfs_error *e);

/* Prepare a statement; on failure fill `e` with SQLite's message. */
int dcfs_catalog_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, dcfs_error *e);

/* Map the last SQLite failure on `db` to -errno plus a message prefixed with `what`. */
int dcfs_catalog_error(sqlite3 *db, dcfs_error *e, const char *what);

/* Read one sum from the `sums` table (0 when absent). */
int64_t dcfs_catalog_sum(sqlite3 *db, const char *name);

/* One sum as recorded: its value (0 when absent) and whether it is still an integer (an
 * overflow in a trigger makes it a float), for fsck. */
int dcfs_catalog_sum_recorded(sqlite3 *db, const char *name, int64_t *value, bool *integer,
			      dcfs_error *e);
/* Overwrite one recorded sum (fsck's repair). */
int dcfs_catalog_sum_set(sqlite3 *db, const char *name, int64_t value, dcfs_error *e);
/* Run a query giving one row of `n` integers into out[] (zeros when it gives no row). */
int dcfs_catalog_ints(sqlite3 *db, const char *sql, int64_t *out, int n, dcfs_error *e);

/* A row whose recorded count is not the one the rows pointing at it give. */
typedef int (*dcfs_catalog_mismatch_fn)(void *u, int64_t id, int64_t recorded, int64_t actual,
					dcfs_error *e);
/* Call `fn` with each (id, recorded, actual) row of `sql`: for a table's owner checking counts. */
int dcfs_catalog_each_mismatch(sqlite3 *db, const char *sql, dcfs_catalog_mismatch_fn fn, void *u,
			       dcfs_error *e);

/* A statement kept for many lookups by one key (a table's owner prepares it and reads its row). */
typedef struct dcfs_catalog_finder {
	sqlite3_stmt *st;
} dcfs_catalog_finder;

/* Bind `len` bytes of `key` as ?1 and give the row to `read` (which must copy what it keeps).
 * 1 on a row, 0 when none, -errno. Leaves no read open: a statement left on a row keeps an old
 * read snapshot, and a later commit would then fail with SQLITE_BUSY_SNAPSHOT once another
 * writer commits. */
int dcfs_catalog_finder_lookup(dcfs_catalog_finder *f, const void *key, int len,
			       void (*read)(sqlite3_stmt *st, void *out), void *out, dcfs_error *e);
void dcfs_catalog_finder_free(dcfs_catalog_finder *f);

/* A text column's value, malloc'd; NULL when it is NULL (or out of memory). */
char *dcfs_catalog_text(sqlite3_stmt *st, int col);

/* Step a statement: 1 when it gave a row, 0 when it is done, -errno (with SQLite's message in
 * `e`) on an error, which a loop must never take for the end of its rows. */
int dcfs_catalog_step(sqlite3_stmt *st, dcfs_error *e);

/* Fail (-EOVERFLOW, naming the sum) when a sum in the `sums` table is no longer an integer:
 * SQLite turns an integer overflow in the triggers' arithmetic into a float. Call it before
 * committing a transaction that adds sizes. */
int dcfs_catalog_check_sums(sqlite3 *db, dcfs_error *e);

/* Run a query with one integer result (bound with up to one text parameter). */
int dcfs_catalog_int(sqlite3 *db, const char *sql, const char *param, int64_t *out, dcfs_error *e);

/* Run a statement that gives no rows, bound with (int64 ?1, int64 ?2): 0, or -errno. */
int dcfs_catalog_run_ids(sqlite3 *db, const char *sql, int64_t a, int64_t b, dcfs_error *e);

/* Run a query whose rows are (name, integer) pairs: `each(name, value, u)` for every row. A
 * negative return of `each` stops and is returned. */
int dcfs_catalog_each_pair(sqlite3 *db, const char *sql,
			   int (*each)(const char *name, int64_t value, void *u), void *u,
			   dcfs_error *e);

DEFINE_TRIVIAL_CLEANUP(sqlite3_stmt *, sqlite3_finalize)
DEFINE_TRIVIAL_CLEANUP(sqlite3 *, sqlite3_close)
#define _cleanup_stmt_ _cleanup_(sqlite3_finalizep)
