/* The catalog: creation and migration, the triggers that keep `sums` and the reference counts
 * equal to what the rows say, and reopening. Random inserts and deletes run in batches; after
 * every batch each sum is recomputed from the rows and compared. */
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "tap.h"
#include "tmp_catalog.h"

/* Every sum, recomputed from the rows (written independently of fsck's copy). */
static const char *const recompute[][2] = {
	{"chunks", "SELECT count(*) FROM chunks"},
	{"chunk_plain", "SELECT total(plain_size) FROM chunks"},
	{"chunk_stored", "SELECT total(stored_size) FROM chunks"},
	{"chunks_unref", "SELECT count(*) FROM chunks WHERE refs = 0"},
	{"chunk_unref_stored", "SELECT total(stored_size) FROM chunks WHERE refs = 0"},
	{"blobs", "SELECT count(*) FROM blobs"},
	{"blob_bytes", "SELECT total(size) FROM blobs"},
	{"layers", "SELECT count(*) FROM layers"},
	{"layer_bytes", "SELECT total(size) FROM layers"},
	{"layers_unref", "SELECT count(*) FROM layers WHERE refs = 0"},
	{"layer_unref_bytes", "SELECT total(size) FROM layers WHERE refs = 0"},
	{"images", "SELECT count(*) FROM images WHERE kind = 'image'"},
	{"snapshots", "SELECT count(*) FROM images WHERE kind = 'snapshot'"},
	{"image_bytes", "SELECT total(l.size) FROM image_layers il JOIN layers l ON l.id = il.layer_id"},
	{"containers", "SELECT count(*) FROM containers"},
	{"containers_running", "SELECT count(*) FROM containers WHERE state = 'running'"},
	{"container_bytes", "SELECT total(upper_bytes) FROM containers"},
	{"volumes", "SELECT count(*) FROM volumes"},
	{"volumes_in_use", "SELECT count(*) FROM volumes WHERE in_use != 0"},
	{"volume_bytes", "SELECT total(bytes) FROM volumes"},
	{"workspaces", "SELECT count(*) FROM workspaces"},
	{"workspaces_in_use", "SELECT count(*) FROM workspaces WHERE in_use != 0"},
	{"workspace_bytes", "SELECT total(bytes) FROM workspaces"},
};
#define NSUMS (sizeof(recompute) / sizeof(recompute[0]))

/* Reference counts: rows whose recorded refs differ from the rows pointing at them. */
static const char *const ref_checks[][2] = {
	{"chunk refs", "SELECT count(*) FROM chunks c"
		       " WHERE c.refs != (SELECT count(*) FROM extents x WHERE x.chunk_id = c.id)"},
	{"blob refs", "SELECT count(*) FROM blobs b"
		      " WHERE b.refs != (SELECT count(*) FROM entries n WHERE n.blob_id = b.id)"},
	{"layer refs", "SELECT count(*) FROM layers l"
		       " WHERE l.refs != (SELECT count(*) FROM image_layers il WHERE il.layer_id = l.id)"},
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

static int exec_failures;

__attribute__((format(printf, 2, 3))) static int execf(sqlite3 *db, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		exec_failures++;
		tap_diag("SQL failed: %s: %s", sql, msg ? msg : sqlite3_errstr(rc));
	}
	sqlite3_free(msg);
	sqlite3_free(sql);
	return rc == SQLITE_OK ? 0 : -1;
}

__attribute__((format(printf, 2, 3))) static int64_t intf(sqlite3 *db, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	int64_t v = -1;
	dcfs_error e = {0};
	if (dcfs_catalog_int(db, sql, NULL, &v, &e) < 0) {
		exec_failures++;
		tap_diag("SQL failed: %s: %s", sql, e.msg ? e.msg : "?");
		v = -1;
	}
	dcfs_error_clear(&e);
	sqlite3_free(sql);
	return v;
}

/* A random row id of `table` matching `where`, or 0 when there is none. */
static int64_t pick(sqlite3 *db, const char *table, const char *col, const char *where)
{
	int64_t n = intf(db, "SELECT count(*) FROM %s WHERE %s", table, where);
	if (n <= 0)
		return 0;
	return intf(db, "SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT 1 OFFSET %lld", col, table, where,
		    col, (long long)rnd((uint64_t)n));
}

/* Compare every sum and reference count with the rows; returns the number of mismatches. */
static int mismatches(sqlite3 *db, bool verbose)
{
	int bad = 0;
	for (size_t i = 0; i < NSUMS; i++) {
		int64_t want = intf(db, "SELECT CAST((%s) AS INTEGER)", recompute[i][1]);
		int64_t got = dcfs_catalog_sum(db, recompute[i][0]);
		if (want != got) {
			bad++;
			if (verbose)
				tap_diag("  sum %s: recorded %lld, recomputed %lld", recompute[i][0],
					 (long long)got, (long long)want);
		}
	}
	for (size_t i = 0; i < sizeof(ref_checks) / sizeof(ref_checks[0]); i++) {
		int64_t n = intf(db, "%s", ref_checks[i][1]);
		if (n != 0) {
			bad++;
			if (verbose)
				tap_diag("  %s: %lld rows wrong", ref_checks[i][0], (long long)n);
		}
	}
	if (intf(db, "SELECT count(*) FROM sums") != (int64_t)NSUMS) {
		bad++;
		if (verbose)
			tap_diag("  sums has %lld rows, expected %zu",
				 (long long)intf(db, "SELECT count(*) FROM sums"), NSUMS);
	}
	return bad;
}

static void verify(sqlite3 *db, const char *what)
{
	int bad = mismatches(db, false);
	if (!tap_result(bad == 0, __FILE__, __LINE__, "sums and refs agree with the rows %s", what))
		mismatches(db, true);
}

/* Delete the row of `table` with the largest `key` in a random group (`group`'s value) of the
 * rows matching `where`; nothing when no row matches. */
static void drop_last(sqlite3 *db, const char *table, const char *group, const char *key,
		      const char *where)
{
	int64_t id = pick(db, table, group, where);
	if (id)
		execf(db, "DELETE FROM %s WHERE %s = %lld AND %s = (SELECT max(%s) FROM %s WHERE %s = %lld)",
		      table, group, (long long)id, key, key, table, group, (long long)id);
}

/* One random change. Deletes only pick rows that nothing references, as the store's gc does;
 * foreign keys refuse the others. */
static void random_op(sqlite3 *db)
{
	int64_t id;
	switch (rnd(20)) {
	case 0:
	case 1:
	case 2: { /* a new chunk */
		int64_t plain = 1 + (int64_t)rnd(1048576);
		execf(db, "INSERT INTO chunks(hash, plain_size, stored_size) VALUES (randomblob(32), %lld, %lld)",
		      (long long)plain, (long long)(1 + rnd((uint64_t)plain)));
		break;
	}
	case 3: /* an existing chunk stored again, as the ingest's upsert does */
		id = pick(db, "chunks", "id", "1");
		if (id)
			execf(db,
			      "INSERT INTO chunks(hash, plain_size, stored_size)"
			      " SELECT hash, plain_size, %lld FROM chunks WHERE id = %lld"
			      " ON CONFLICT(hash) DO UPDATE SET quarantined = 0, stored_size = excluded.stored_size",
			      (long long)(1 + rnd(1000)), (long long)id);
		break;
	case 4:
	case 5: { /* a blob made of extents */
		int64_t nchunks = intf(db, "SELECT count(*) FROM chunks");
		if (nchunks <= 0)
			break;
		int next = 1 + (int)rnd(4);
		int64_t off = 0;
		if (execf(db, "INSERT INTO blobs(hash, size) VALUES (randomblob(32), 0)") < 0)
			break;
		int64_t blob = sqlite3_last_insert_rowid(db);
		for (int i = 0; i < next; i++) {
			id = pick(db, "chunks", "id", "1");
			int64_t len = 1 + (int64_t)rnd(4096);
			execf(db,
			      "INSERT INTO extents(blob_id, file_off, chunk_id, chunk_off, len)"
			      " VALUES (%lld, %lld, %lld, 0, %lld)",
			      (long long)blob, (long long)off, (long long)id, (long long)len);
			off += len;
		}
		/* size changes are not expected after insert: blobs are immutable, so set it
		 * by replacing the row's insert */
		execf(db, "DELETE FROM blobs WHERE id = %lld", (long long)blob);
		execf(db, "INSERT INTO blobs(id, hash, size) VALUES (%lld, randomblob(32), %lld)",
		      (long long)blob, (long long)off);
		/* the delete cascaded to the extents: add them again */
		int64_t o = 0;
		for (int i = 0; i < next && o < off; i++) {
			id = pick(db, "chunks", "id", "1");
			int64_t len = i == next - 1 ? off - o : 1 + (int64_t)rnd((uint64_t)(off - o));
			execf(db,
			      "INSERT INTO extents(blob_id, file_off, chunk_id, chunk_off, len)"
			      " VALUES (%lld, %lld, %lld, 0, %lld)",
			      (long long)blob, (long long)o, (long long)id, (long long)len);
			o += len;
		}
		break;
	}
	case 6: /* an unreferenced blob goes (its extents with it) */
		id = pick(db, "blobs", "id", "refs = 0");
		if (id)
			execf(db, "DELETE FROM blobs WHERE id = %lld", (long long)id);
		break;
	case 7: /* an unreferenced chunk goes */
		id = pick(db, "chunks", "id", "refs = 0");
		if (id)
			execf(db, "DELETE FROM chunks WHERE id = %lld", (long long)id);
		break;
	case 8:
	case 9: { /* a layer with entries */
		int nent = 1 + (int)rnd(6);
		if (execf(db,
			  "INSERT INTO layers(digest, source, created, entries, files, size)"
			  " VALUES ('sha256:' || lower(hex(randomblob(32))), 'test', 0, %d, 0, 0)",
			  nent + 1) < 0)
			break;
		int64_t layer = sqlite3_last_insert_rowid(db);
		execf(db, "INSERT INTO entries(layer_id, path, type, mode, uid, gid, mtime_ns)"
			  " VALUES (%lld, '', 'd', 493, 0, 0, 0)",
		      (long long)layer);
		int64_t size = 0;
		for (int i = 0; i < nent; i++) {
			id = pick(db, "blobs", "id", "1");
			if (id && rnd(4)) {
				int64_t bs = intf(db, "SELECT size FROM blobs WHERE id = %lld", (long long)id);
				execf(db,
				      "INSERT INTO entries(layer_id, path, type, mode, uid, gid, mtime_ns, size,"
				      " blob_id) VALUES (%lld, 'f%d', 'f', 420, 0, 0, 0, %lld, %lld)",
				      (long long)layer, i, (long long)bs, (long long)id);
				size += bs;
			} else {
				execf(db,
				      "INSERT INTO entries(layer_id, path, type, mode, uid, gid, mtime_ns, target)"
				      " VALUES (%lld, 'l%d', 'l', 511, 0, 0, 0, 'f0')",
				      (long long)layer, i);
			}
		}
		/* the size is known once the entries are in: layers_upd keeps layer_bytes */
		execf(db, "UPDATE layers SET size = %lld, files = %d WHERE id = %lld", (long long)size,
		      nent, (long long)layer);
		break;
	}
	case 10: /* an unreferenced layer goes (its entries with it) */
		id = pick(db, "layers", "id", "refs = 0");
		if (id)
			execf(db, "DELETE FROM layers WHERE id = %lld", (long long)id);
		break;
	case 11:
	case 12: { /* an image or a snapshot of some layers */
		if (intf(db, "SELECT count(*) FROM layers") <= 0)
			break;
		if (execf(db,
			  "INSERT INTO images(ref, kind, digest, created, last_used)"
			  " VALUES ('img-' || lower(hex(randomblob(8))), '%s', 'sha256:x', 0, 0)",
			  rnd(3) ? "image" : "snapshot") < 0)
			break;
		int64_t img = sqlite3_last_insert_rowid(db);
		int nl = 1 + (int)rnd(3);
		for (int pos = 0; pos < nl; pos++) {
			id = pick(db, "layers", "id", "1");
			execf(db, "INSERT INTO image_layers(image_id, pos, layer_id) VALUES (%lld, %d, %lld)",
			      (long long)img, pos, (long long)id);
		}
		break;
	}
	case 13: /* an image goes (its layer list with it) */
		id = pick(db, "images", "id", "1");
		if (id)
			execf(db, "DELETE FROM images WHERE id = %lld", (long long)id);
		break;
	case 14: /* one layer of an image is dropped */
		drop_last(db, "image_layers", "image_id", "pos", "1");
		break;
	case 15: /* one extent of a blob is dropped */
		drop_last(db, "extents", "blob_id", "file_off", "1");
		break;
	case 16: /* one entry of a layer is dropped */
		drop_last(db, "entries", "layer_id", "path", "path != ''");
		break;
	case 17: /* containers */
		if (rnd(2))
			execf(db,
			      "INSERT INTO containers(id, name, state, upper_bytes, created)"
			      " VALUES (lower(hex(randomblob(8))), lower(hex(randomblob(8))), '%s', %lld, 0)",
			      rnd(2) ? "running" : "created", (long long)rnd(1 << 20));
		else if ((id = pick(db, "containers", "rowid", "1")) != 0)
			execf(db, rnd(2) ? "DELETE FROM containers WHERE rowid = %lld"
					 : "UPDATE containers SET state = CASE state WHEN 'running' THEN"
					   " 'stopped' ELSE 'running' END, upper_bytes = upper_bytes + 4096"
					   " WHERE rowid = %lld",
			      (long long)id);
		break;
	case 18: /* volumes */
		if (rnd(2))
			execf(db, "INSERT INTO volumes(name, bytes, in_use, created)"
				  " VALUES (lower(hex(randomblob(8))), %lld, %d, 0)",
			      (long long)rnd(1 << 20), (int)rnd(3));
		else if ((id = pick(db, "volumes", "rowid", "1")) != 0)
			execf(db, rnd(2) ? "DELETE FROM volumes WHERE rowid = %lld"
					 : "UPDATE volumes SET in_use = NOT in_use, bytes = bytes / 2"
					   " WHERE rowid = %lld",
			      (long long)id);
		break;
	default: /* workspaces */
		if (rnd(2))
			execf(db, "INSERT INTO workspaces(path, bytes, files, in_use, updated)"
				  " VALUES ('/w/' || lower(hex(randomblob(8))), %lld, 1, %d, 0)",
			      (long long)rnd(1 << 20), (int)rnd(2));
		else if ((id = pick(db, "workspaces", "rowid", "1")) != 0)
			execf(db, rnd(2) ? "DELETE FROM workspaces WHERE rowid = %lld"
					 : "UPDATE workspaces SET in_use = 1 - in_use, bytes = bytes + 1"
					   " WHERE rowid = %lld",
			      (long long)id);
		break;
	}
}

static int64_t sums_snapshot(sqlite3 *db, int64_t *out)
{
	int64_t total = 0;
	for (size_t i = 0; i < NSUMS; i++) {
		out[i] = dcfs_catalog_sum(db, recompute[i][0]);
		total += out[i];
	}
	return total;
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/dcfs-test-catalog-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	char path[4200];
	snprintf(path, sizeof(path), "%s/catalog.db", dir);

	/* Creation migrates a new file to the current version. */
	sqlite3 *db = NULL;
	dcfs_error e = {0};
	int r = dcfs_catalog_open(path, &db, &e);
	if (!tap_result(r == 0 && db, __FILE__, __LINE__, "a new catalog opens"))
		tap_diag("  %s", e.msg ? e.msg : "?");
	if (!db)
		return tap_done();
	CHECK(dcfs_catalog_version >= 1);
	CHECK_INT(intf(db, "PRAGMA user_version"), dcfs_catalog_version);
	CHECK_INT(intf(db, "PRAGMA foreign_keys"), 1);
	CHECK_INT(intf(db, "PRAGMA synchronous"), 2); /* FULL */
	int64_t wal = intf(db, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'");
	CHECK_INT(wal, 1);
	CHECK_INT(intf(db, "SELECT count(*) FROM sums"), NSUMS);
	CHECK_INT(intf(db, "SELECT count(*) FROM sums WHERE value != 0"), 0);
	CHECK_INT(dcfs_catalog_sum(db, "no such sum"), 0);
	verify(db, "when empty");
	/* The checker itself notices a wrong sum and a wrong reference count. */
	execf(db, "UPDATE sums SET value = value + 1 WHERE name = 'blob_bytes'");
	CHECK_INT(mismatches(db, false), 1);
	execf(db, "UPDATE sums SET value = value - 1 WHERE name = 'blob_bytes'");
	execf(db, "INSERT INTO chunks(hash, plain_size, stored_size, refs) VALUES (zeroblob(32), 1, 1, 5)");
	CHECK_INT(mismatches(db, false), 1);
	execf(db, "DELETE FROM chunks");
	verify(db, "after the checker's self-test");

	/* The helpers. */
	int64_t v = -1;
	CHECK(dcfs_catalog_int(db, "SELECT value FROM sums WHERE name = ?1", "chunks", &v, NULL) == 1 &&
	      v == 0);
	CHECK(dcfs_catalog_int(db, "SELECT value FROM sums WHERE name = ?1", "nope", &v, NULL) == 0);
	r = dcfs_catalog_exec(db, "INSERT INTO nosuchtable VALUES (1)", &e);
	CHECK(r < 0 && e.code == -r && e.msg && strstr(e.msg, "nosuchtable"));
	dcfs_error_clear(&e);
	/* A constraint failure maps to EEXIST. */
	r = dcfs_catalog_exec(db, "INSERT INTO sums(name, value) VALUES ('chunks', 1)", &e);
	CHECK_INT(r, -EEXIST);
	dcfs_error_clear(&e);
	/* dcfs_catalog_step: a row, the end, and an error that is not the end (sum() overflows
	 * on its second row). */
	sqlite3_stmt *st = NULL;
	CHECK(dcfs_catalog_prepare(db, "SELECT sum(x) FROM (SELECT 9223372036854775807 AS x"
				   " UNION ALL SELECT 1) UNION ALL SELECT 0", &st, &e) == 0);
	r = dcfs_catalog_step(st, &e);
	CHECK(r < 0 && e.msg && strstr(e.msg, "overflow"));
	dcfs_error_clear(&e);
	sqlite3_finalize(st);
	CHECK(dcfs_catalog_prepare(db, "SELECT 1", &st, &e) == 0);
	CHECK_INT(dcfs_catalog_step(st, &e), 1);
	CHECK_INT(dcfs_catalog_step(st, &e), 0);
	sqlite3_finalize(st);
	/* A sum that overflowed into a float fails the check before a commit. */
	CHECK_INT(dcfs_catalog_check_sums(db, &e), 0);
	execf(db, "UPDATE sums SET value = 9223372036854775807 WHERE name = 'blob_bytes'");
	execf(db, "UPDATE sums SET value = value + 1 WHERE name = 'blob_bytes'");
	r = dcfs_catalog_check_sums(db, &e);
	CHECK(r == -EOVERFLOW && e.msg && strstr(e.msg, "blob_bytes"));
	dcfs_error_clear(&e);
	execf(db, "UPDATE sums SET value = 0 WHERE name = 'blob_bytes'");

	/* Random batches, each in a transaction. */
	int batches = 60, ops = 40;
	for (int b = 0; b < batches; b++) {
		execf(db, "BEGIN");
		for (int i = 0; i < ops; i++)
			random_op(db);
		execf(db, "COMMIT");
		int bad = mismatches(db, false);
		if (bad) {
			char what[64];
			snprintf(what, sizeof(what), "after batch %d", b);
			verify(db, what);
			break;
		}
	}
	verify(db, "after random batches");
	CHECK_INT(exec_failures, 0);
	tap_diag("rows: %lld chunks, %lld blobs, %lld extents, %lld layers, %lld entries, %lld images",
		 (long long)intf(db, "SELECT count(*) FROM chunks"),
		 (long long)intf(db, "SELECT count(*) FROM blobs"),
		 (long long)intf(db, "SELECT count(*) FROM extents"),
		 (long long)intf(db, "SELECT count(*) FROM layers"),
		 (long long)intf(db, "SELECT count(*) FROM entries"),
		 (long long)intf(db, "SELECT count(*) FROM images"));
	CHECK(intf(db, "SELECT count(*) FROM extents") > 0);
	CHECK(intf(db, "SELECT count(*) FROM image_layers") > 0);

	/* A rolled-back batch leaves the sums as they were. */
	int64_t before[NSUMS], after[NSUMS];
	sums_snapshot(db, before);
	execf(db, "BEGIN");
	for (int i = 0; i < 100; i++)
		random_op(db);
	execf(db, "ROLLBACK");
	sums_snapshot(db, after);
	CHECK(memcmp(before, after, sizeof(before)) == 0);
	verify(db, "after a rollback");

	/* Deleting a referenced row is refused by the foreign keys, and the sums do not move. */
	int64_t used_chunk = intf(db, "SELECT coalesce(min(id), 0) FROM chunks WHERE refs > 0");
	if (used_chunk > 0) {
		char *msg = NULL;
		char sql[128];
		snprintf(sql, sizeof(sql), "DELETE FROM chunks WHERE id = %lld", (long long)used_chunk);
		CHECK(sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK);
		sqlite3_free(msg);
		verify(db, "after a refused delete");
	}

	/* Garbage collection in the store's order empties everything. */
	execf(db, "BEGIN; DELETE FROM images; DELETE FROM layers WHERE refs <= 0;"
		  " DELETE FROM blobs WHERE refs <= 0; DELETE FROM chunks WHERE refs <= 0;"
		  " DELETE FROM containers; DELETE FROM volumes; DELETE FROM workspaces; COMMIT");
	verify(db, "after removing everything");
	CHECK_INT(intf(db, "SELECT count(*) FROM sums WHERE value != 0"), 0);
	CHECK_INT(intf(db, "SELECT count(*) FROM extents") + intf(db, "SELECT count(*) FROM entries") +
			  intf(db, "SELECT count(*) FROM image_layers"),
		  0);

	/* Fill again, then reopen: nothing is migrated twice, nothing changes. */
	for (int i = 0; i < 300; i++)
		random_op(db);
	verify(db, "after refilling");
	sums_snapshot(db, before);
	int64_t objects = intf(db, "SELECT count(*) FROM sqlite_schema");
	sqlite3_close(db);
	db = NULL;
	for (int round = 0; round < 2; round++) {
		r = dcfs_catalog_open(path, &db, &e);
		if (!tap_result(r == 0 && db, __FILE__, __LINE__, "reopen %d", round + 1))
			tap_diag("  %s", e.msg ? e.msg : "?");
		if (!db)
			return tap_done();
		CHECK_INT(intf(db, "PRAGMA user_version"), dcfs_catalog_version);
		CHECK_INT(intf(db, "SELECT count(*) FROM sqlite_schema"), objects);
		sums_snapshot(db, after);
		CHECK(memcmp(before, after, sizeof(before)) == 0);
		verify(db, "after reopening");
		sqlite3_close(db);
		db = NULL;
	}

	/* A catalog from a newer dcfs is refused, and left alone. */
	sqlite3 *raw = NULL;
	CHECK(sqlite3_open(path, &raw) == SQLITE_OK);
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", dcfs_catalog_version + 1);
	CHECK(sqlite3_exec(raw, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(raw);
	r = dcfs_catalog_open(path, &db, &e);
	CHECK_INT(r, -EPROTO);
	CHECK(db == NULL && e.msg && strstr(e.msg, "newer"));
	dcfs_error_clear(&e);
	if (db)
		sqlite3_close(db);

	/* An unopenable path is an error with a message, not a crash. */
	char bad[4300];
	snprintf(bad, sizeof(bad), "%s/missing-dir/catalog.db", dir);
	db = NULL;
	r = dcfs_catalog_open(bad, &db, &e);
	CHECK(r < 0 && db == NULL && e.msg != NULL);
	dcfs_error_clear(&e);

	tmp_catalog_remove_files(path);
	CHECK(rmdir(dir) == 0);
	return tap_done();
}
