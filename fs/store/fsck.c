/* The store check (see fsck.h). Each pass reads the catalog in one query and compares what it
 * recomputes with what is recorded. */
#include "fsck.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blob_table.h"
#include "catalog.h"
#include "chunk.h"
#include "chunk_table.h"
#include "cleanup.h"
#include "fsutil.h"
#include "entry.h"
#include "orphans.h"

typedef struct ctx {
	dcfs_store *s;
	bool repair;
	void (*say)(const char *, void *);
	void *u;
	dcfs_fsck_report *rep;
} ctx;

__attribute__((format(printf, 2, 3))) static void say(ctx *c, const char *fmt, ...)
{
	_cleanup_free_ char *line = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n >= 0 && c->say)
		c->say(line, c->u);
}

DEFINE_TRIVIAL_CLEANUP(ZSTD_DCtx *, ZSTD_freeDCtx)

/* Move a chunk file to quarantine/ and mark its row. */
static int quarantine(ctx *c, const dcfs_hash *h, dcfs_error *e)
{
	char name[3 + DCFS_HASH_HEX], hex[DCFS_HASH_HEX], to[16 + DCFS_HASH_HEX];
	dcfs_store_chunk_name(h, name);
	dcfs_hash_to_hex(h, hex);
	snprintf(to, sizeof(to), "quarantine/%s", hex);
	if (renameat(c->s->chunks_fd, name, c->s->root_fd, to) < 0 && errno != ENOENT)
		return dcfs_error_set(e, errno, "cannot quarantine chunk %s: %m", hex);
	int r = dcfs_chunk_table_quarantine(c->s->db, h, e);
	if (r < 0)
		return r;
	c->rep->repaired++;
	return 0;
}

static int check_chunks(ctx *c, dcfs_error *e)
{
	_cleanup_(dcfs_chunk_rows_free) dcfs_chunk_rows st = {0};
	int r = dcfs_chunk_rows_open(&st, c->s->db, e);
	if (r < 0)
		return r;
	_cleanup_(ZSTD_freeDCtxp) ZSTD_DCtx *dctx = ZSTD_createDCtx();
	_cleanup_free_ void *buf = malloc(DCFS_CHUNK_MAX);
	if (!dctx || !buf)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	dcfs_chunk_row row;
	while ((r = dcfs_chunk_rows_next(&st, &row, e)) > 0) {
		int64_t id = row.id;
		dcfs_hash h = row.hash;
		if (!row.hashed)
			continue; /* the schema's CHECK forbids it */
		char hex[DCFS_HASH_HEX];
		dcfs_hash_to_hex(&h, hex);
		if (row.quarantined) {
			if (row.refs == 0)
				continue; /* nothing uses it any more: prune removes the row */
			c->rep->problems++;
			say(c, "chunk %s: quarantined earlier; the images using it are damaged until it is"
			       " imported or pulled again", hex);
			continue;
		}
		dcfs_error err _cleanup_error_ = {0};
		uint64_t stored = 0;
		ssize_t n = dcfs_chunk_read(c->s->chunks_fd, &h, dctx, buf, &stored, &err);
		c->rep->chunks++;
		c->rep->chunk_bytes += stored;
		if (n < 0) {
			/* the message names the chunk */
			c->rep->problems++;
			say(c, "%s%s", err.msg, c->repair ? " (quarantined)" : "");
			if (c->repair && (r = quarantine(c, &h, e)) < 0)
				return r;
			continue;
		}
		/* The content verifies: a size that differs is the catalog's mistake. */
		static const char *const cols[] = {"plain_size", "stored_size"};
		static const dcfs_chunk_size which[] = {DCFS_CHUNK_PLAIN_SIZE, DCFS_CHUNK_STORED_SIZE};
		int64_t actual[2] = {n, (int64_t)stored}, recorded_sizes[2] = {row.plain_size, row.stored_size};
		for (int k = 0; k < 2; k++) {
			int64_t recorded = recorded_sizes[k];
			if (recorded == actual[k])
				continue;
			c->rep->problems++;
			say(c, "chunk %s: %s is %lld in the catalog, %lld on disk%s", hex, cols[k],
			    (long long)recorded, (long long)actual[k], c->repair ? " (fixed)" : "");
			if (!c->repair)
				continue;
			r = dcfs_chunk_table_set_size(c->s->db, id, which[k], actual[k], e);
			if (r < 0)
				return r;
			c->rep->repaired++;
		}
	}
	return r;
}

/* A query returning (what, key, recorded, actual) rows for each mismatch, and the statement
 * that repairs one (bound with actual, key). */
typedef struct count_check {
	const char *what, *query, *fix;
} count_check;

static const count_check count_checks[] = {
	{"layer references",
	 "SELECT l.id, l.refs, (SELECT count(*) FROM image_layers il WHERE il.layer_id = l.id)"
	 " + (SELECT count(*) FROM snapshots s WHERE s.workspace_layer = l.id) AS n"
	 " FROM layers l WHERE l.refs != n",
	 "UPDATE layers SET refs = ?1 WHERE id = ?2"},
	{"layer size",
	 "SELECT l.id, l.size, (SELECT coalesce(sum(size), 0) FROM entries en WHERE en.layer_id = l.id"
	 " AND en.type = 'f') AS n FROM layers l WHERE l.size != n",
	 "UPDATE layers SET size = ?1 WHERE id = ?2"},
	{"layer entries",
	 "SELECT l.id, l.entries, (SELECT count(*) FROM entries en WHERE en.layer_id = l.id) AS n"
	 " FROM layers l WHERE l.entries != n",
	 "UPDATE layers SET entries = ?1 WHERE id = ?2"},
};

/* The sums recomputed from the rows. */
static const char recompute_sums[] =
	"SELECT 'layers', count(*) FROM layers"
	" UNION ALL SELECT 'layer_bytes', coalesce(sum(size), 0) FROM layers"
	" UNION ALL SELECT 'layers_unref', count(*) FROM layers WHERE refs = 0"
	" UNION ALL SELECT 'layer_unref_bytes', coalesce(sum(size), 0) FROM layers WHERE refs = 0"
	" UNION ALL SELECT 'images', count(*) FROM images WHERE kind = 'image'"
	" UNION ALL SELECT 'snapshots', count(*) FROM images WHERE kind = 'snapshot'"
	" UNION ALL SELECT 'image_bytes', coalesce(sum(l.size), 0) FROM image_layers il"
	"   JOIN layers l ON l.id = il.layer_id"
	" UNION ALL SELECT 'containers', count(*) FROM containers"
	" UNION ALL SELECT 'containers_running', count(*) FROM containers WHERE state = 'running'"
	" UNION ALL SELECT 'container_bytes', coalesce(sum(upper_bytes), 0) FROM containers"
	" UNION ALL SELECT 'volumes', count(*) FROM volumes"
	" UNION ALL SELECT 'volumes_in_use', count(*) FROM volumes WHERE in_use != 0"
	" UNION ALL SELECT 'volume_bytes', coalesce(sum(bytes), 0) FROM volumes"
	" UNION ALL SELECT 'workspaces', count(*) FROM workspaces"
	" UNION ALL SELECT 'workspaces_in_use', count(*) FROM workspaces WHERE in_use != 0"
	" UNION ALL SELECT 'workspace_bytes', coalesce(sum(bytes), 0) FROM workspaces";

static int run_fix(ctx *c, const char *sql, int64_t value, const char *key_text, int64_t key,
		   dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(c->s->db, sql, &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, value);
	if (key_text)
		sqlite3_bind_text(st, 2, key_text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_int64(st, 2, key);
	r = dcfs_catalog_step(st, e);
	if (r < 0)
		return r;
	c->rep->repaired++;
	return 0;
}

/* A count that the rows contradict: report it and, when repairing, set it with `fix`. */
static int count_mismatch(ctx *c, const char *what, int64_t id, int64_t rec, int64_t act,
			  int (*fix)(sqlite3 *, int64_t, int64_t, dcfs_error *), dcfs_error *e)
{
	c->rep->problems++;
	say(c, "%s of row %lld: recorded %lld, actual %lld%s", what, (long long)id, (long long)rec,
	    (long long)act, c->repair ? " (fixed)" : "");
	if (!c->repair)
		return 0;
	int r = fix(c->s->db, id, act, e);
	if (r < 0)
		return r;
	c->rep->repaired++;
	return 0;
}

static int wrong_chunk_refs(void *u, int64_t id, int64_t rec, int64_t act, dcfs_error *e)
{
	return count_mismatch(u, "chunk references", id, rec, act, dcfs_chunk_table_set_refs, e);
}

static int wrong_blob_refs(void *u, int64_t id, int64_t rec, int64_t act, dcfs_error *e)
{
	return count_mismatch(u, "blob references", id, rec, act, dcfs_blob_table_set_refs, e);
}

static int check_counts(ctx *c, dcfs_error *e)
{
	if (dcfs_chunk_table_wrong_refs(c->s->db, wrong_chunk_refs, c, e) < 0)
		return dcfs_error_wrap(e, "checking chunk references");
	if (dcfs_blob_table_wrong_refs(c->s->db, wrong_blob_refs, c, e) < 0)
		return dcfs_error_wrap(e, "checking blob references");
	for (size_t i = 0; i < ELEMENTSOF(count_checks); i++) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		int r = dcfs_catalog_prepare(c->s->db, count_checks[i].query, &st, e);
		if (r < 0)
			return r;
		while ((r = dcfs_catalog_step(st, e)) > 0) {
			int64_t id = sqlite3_column_int64(st, 0), rec = sqlite3_column_int64(st, 1),
				act = sqlite3_column_int64(st, 2);
			c->rep->problems++;
			say(c, "%s of row %lld: recorded %lld, actual %lld%s", count_checks[i].what,
			    (long long)id, (long long)rec, (long long)act, c->repair ? " (fixed)" : "");
			if (c->repair) {
				r = run_fix(c, count_checks[i].fix, act, NULL, id, e);
				if (r < 0)
					return r;
			}
		}
		if (r < 0)
			return dcfs_error_wrap(e, "checking %s", count_checks[i].what);
	}
	return 0;
}

/* Compare sum `name` with the `actual` value recomputed from the rows (an overflow in a trigger
 * may have made the recorded one a float), and repair it when asked. */
static int check_sum(ctx *c, const char *name, int64_t actual, dcfs_error *e)
{
	int64_t recorded = 0;
	bool integer = true;
	int r = dcfs_catalog_sum_recorded(c->s->db, name, &recorded, &integer, e);
	if (r < 0 || (recorded == actual && integer))
		return r;
	c->rep->problems++;
	say(c, "sum %s: recorded %lld%s, actual %lld%s", name, (long long)recorded,
	    integer ? "" : " (overflowed: not an integer)", (long long)actual,
	    c->repair ? " (fixed)" : "");
	if (!c->repair)
		return 0;
	r = dcfs_catalog_sum_set(c->s->db, name, actual, e);
	if (r >= 0)
		c->rep->repaired++;
	return r;
}

/* The sums of the chunks and contents, which their tables' owners recompute. */
static int check_table_sums(ctx *c, dcfs_error *e)
{
	dcfs_chunk_figures ch;
	dcfs_blob_figures bl;
	int r = dcfs_chunk_table_figures(c->s->db, &ch, e);
	if (r < 0 || (r = dcfs_blob_table_figures(c->s->db, &bl, e)) < 0)
		return r;
	const struct {
		const char *name;
		int64_t actual;
	} sums[] = {
		{"chunks", ch.chunks}, {"chunk_plain", ch.plain}, {"chunk_stored", ch.stored},
		{"chunks_unref", ch.unref}, {"chunk_unref_stored", ch.unref_stored},
		{"blobs", bl.blobs}, {"blob_bytes", bl.bytes},
	};
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(sums); i++)
		r = check_sum(c, sums[i].name, sums[i].actual, e);
	return r;
}

static int check_sums(ctx *c, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(c->s->db, recompute_sums, &st, e);
	while (r >= 0 && (r = dcfs_catalog_step(st, e)) > 0)
		r = check_sum(c, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1), e);
	if (r >= 0)
		r = check_table_sums(c, e);
	return r < 0 ? dcfs_error_wrap(e, "checking the sums") : 0;
}

static int extent_outside_chunk(void *u, int64_t blob_id, dcfs_error *e)
{
	(void)e;
	((ctx *)u)->rep->problems++;
	say(u, "extent outside its chunk in blob %lld", (long long)blob_id);
	return 0;
}

static int extent_past_size(void *u, int64_t blob_id, dcfs_error *e)
{
	(void)e;
	((ctx *)u)->rep->problems++;
	say(u, "extent past the end of its file in blob %lld", (long long)blob_id);
	return 0;
}

/* Rows whose parent row is gone (possible only if foreign keys were off when they were written),
 * extents that do not fit their chunk, and files whose extents run past their size. */
static int check_dangling(ctx *c, dcfs_error *e)
{
	static const struct {
		const char *what, *query;
	} checks[] = {
		{"regular file without content in layer",
		 "SELECT layer_id FROM entries WHERE type = 'f' AND size > 0 AND blob_id IS NULL"},
		{"snapshot without its record: image",
		 "SELECT id FROM images i WHERE kind = 'snapshot' AND NOT EXISTS"
		 " (SELECT 1 FROM snapshots s WHERE s.image_id = i.id)"},
		{"snapshot record of an image that is not a snapshot: image",
		 "SELECT s.image_id FROM snapshots s JOIN images i ON i.id = s.image_id"
		 " WHERE i.kind != 'snapshot'"},
	};
	int r = dcfs_blob_table_extents_outside_chunk(c->s->db, extent_outside_chunk, c, e);
	if (r >= 0)
		r = dcfs_blob_table_extents_past_size(c->s->db, extent_past_size, c, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		r = dcfs_catalog_prepare(c->s->db, checks[i].query, &st, e);
		if (r < 0)
			return r;
		while ((r = dcfs_catalog_step(st, e)) > 0) {
			c->rep->problems++;
			say(c, "%s %lld", checks[i].what, (long long)sqlite3_column_int64(st, 0));
		}
		if (r < 0)
			return r;
	}
	/* Foreign keys: PRAGMA foreign_key_check lists (table, rowid, parent, fkid). */
	_cleanup_stmt_ sqlite3_stmt *fk = NULL;
	r = dcfs_catalog_prepare(c->s->db, "PRAGMA foreign_key_check", &fk, e);
	if (r < 0)
		return r;
	while ((r = dcfs_catalog_step(fk, e)) > 0) {
		const char *table = (const char *)sqlite3_column_text(fk, 0);
		const char *parent = (const char *)sqlite3_column_text(fk, 2);
		c->rep->problems++;
		say(c, "dangling row in %s: its %s row is missing", table, parent);
	}
	if (r < 0)
		return r;
	if (c->repair) {
		static const char drop[] =
			"DELETE FROM entries WHERE layer_id NOT IN (SELECT id FROM layers)"
			" OR (blob_id IS NOT NULL AND blob_id NOT IN (SELECT id FROM blobs));"
			"DELETE FROM image_layers WHERE image_id NOT IN (SELECT id FROM images)"
			" OR layer_id NOT IN (SELECT id FROM layers);"
			"DELETE FROM image_index WHERE image_id NOT IN (SELECT id FROM images)"
			" OR layer_id NOT IN (SELECT id FROM layers);";
		int before = sqlite3_total_changes(c->s->db);
		r = dcfs_blob_table_drop_dangling_extents(c->s->db, e);
		if (r >= 0)
			r = dcfs_catalog_exec(c->s->db, drop, e);
		if (r < 0)
			return r;
		c->rep->repaired += (uint64_t)(sqlite3_total_changes(c->s->db) - before);
	}
	return 0;
}

/* Entries whose size is not their content's (the file would read as other bytes) or is more than
 * a layer may hold (its sums could overflow). Neither can be repaired: the content is unknown. */
static int check_entry_sizes(ctx *c, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT en.layer_id, en.path, en.size, b.size FROM entries en"
		 " LEFT JOIN blobs b ON b.id = en.blob_id"
		 " WHERE (en.type IN ('f','h') AND (typeof(en.size) != 'integer' OR en.size < 0"
		 " OR en.size > %llu)) OR en.size != b.size",
		 (unsigned long long)DCFS_LAYER_BYTES_MAX);
	int r = dcfs_catalog_prepare(c->s->db, sql, &st, e);
	if (r < 0)
		return r;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		int64_t layer = sqlite3_column_int64(st, 0), size = sqlite3_column_int64(st, 2);
		const char *path = (const char *)sqlite3_column_text(st, 1);
		c->rep->problems++;
		if (sqlite3_column_type(st, 3) == SQLITE_NULL ||
		    sqlite3_column_type(st, 2) != SQLITE_INTEGER || size < 0 ||
		    (uint64_t)size > DCFS_LAYER_BYTES_MAX)
			say(c, "entry '%s' of layer %lld: size %s is out of range", path, (long long)layer,
			    (const char *)sqlite3_column_text(st, 2));
		else
			say(c, "entry '%s' of layer %lld: %lld bytes, but its content has %lld", path,
			    (long long)layer, (long long)size, (long long)sqlite3_column_int64(st, 3));
	}
	return r < 0 ? dcfs_error_wrap(e, "checking entry sizes") : 0;
}

int dcfs_fsck(dcfs_store *s, bool repair, void (*sayf)(const char *line, void *u), void *u,
	      dcfs_fsck_report *rep, dcfs_error *e)
{
	ctx c = {.s = s, .repair = repair, .say = sayf, .u = u, .rep = rep};
	*rep = (dcfs_fsck_report){0};
	int64_t ok = 0;
	_cleanup_stmt_ sqlite3_stmt *qc = NULL;
	int r = dcfs_catalog_prepare(s->db, "PRAGMA quick_check", &qc, e);
	if (r < 0)
		return r;
	while ((r = dcfs_catalog_step(qc, e)) > 0) {
		const char *line = (const char *)sqlite3_column_text(qc, 0);
		if (line && strcmp(line, "ok") == 0) {
			ok = 1;
			continue;
		}
		rep->problems++;
		say(&c, "catalog: %s", line ? line : "damaged");
	}
	if (r < 0)
		return r;
	if (!ok)
		return dcfs_error_set(e, EIO, "catalog '%s/catalog.db' is damaged", s->root);
	r = dcfs_catalog_exec(s->db, repair ? "BEGIN IMMEDIATE" : "BEGIN", e);
	if (r < 0)
		return r;
	r = check_chunks(&c, e);
	if (r >= 0)
		r = check_dangling(&c, e);
	if (r >= 0)
		r = check_entry_sizes(&c, e);
	if (r >= 0)
		r = check_counts(&c, e);
	if (r >= 0)
		r = check_sums(&c, e);
	if (r >= 0) {
		uint64_t before = rep->orphans;
		r = dcfs_store_orphans(s, repair, &rep->orphans, &rep->orphan_bytes, e);
		if (repair)
			rep->repaired += rep->orphans - before;
	}
	if (r >= 0)
		r = dcfs_catalog_exec(s->db, "COMMIT", e);
	if (r < 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}
