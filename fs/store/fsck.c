/* The store check (see fsck.h). Each pass reads the catalog in one query and compares what it
 * recomputes with what is recorded. */
#include "fsck.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog.h"
#include "chunk.h"
#include "cleanup.h"
#include "container_table.h"
#include "fsutil.h"
#include "entry.h"
#include "image_table.h"
#include "layer_table.h"
#include "merged_index.h"
#include "orphans.h"
#include "snapshot_table.h"
#include "volume_table.h"
#include "workspace_record.h"

typedef struct ctx {
	dcfs_store *s;
	bool repair;
	const dcfs_report *findings;
	dcfs_fsck_report *rep;
} ctx;

__attribute__((format(printf, 2, 3))) static void say(ctx *c, const char *fmt, ...)
{
	_cleanup_free_ char *line = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n >= 0)
		dcfs_report_note(c->findings, "%s", line);
}

DEFINE_TRIVIAL_CLEANUP(ZSTD_DCtx *, ZSTD_freeDCtx)

static int run_fix(ctx *c, const char *sql, int64_t value, const char *key_text, int64_t key,
		   dcfs_error *e);

/* Move a chunk file to quarantine/ and mark its row. */
static int quarantine(ctx *c, int64_t id, const dcfs_hash *h, dcfs_error *e)
{
	char name[3 + DCFS_HASH_HEX], hex[DCFS_HASH_HEX], to[16 + DCFS_HASH_HEX];
	dcfs_store_chunk_name(h, name);
	dcfs_hash_to_hex(h, hex);
	snprintf(to, sizeof(to), "quarantine/%s", hex);
	if (renameat(c->s->chunks_fd, name, c->s->root_fd, to) < 0 && errno != ENOENT)
		return dcfs_error_set(e, errno, "cannot quarantine chunk %s: %m", hex);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(c->s->db, "UPDATE chunks SET quarantined = 1 WHERE id = ?1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	r = dcfs_catalog_step(st, e);
	if (r < 0)
		return r;
	c->rep->repaired++;
	return 0;
}

static int check_chunks(ctx *c, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(c->s->db,
				     "SELECT id, hash, plain_size, stored_size, quarantined, refs FROM chunks",
				     &st, e);
	if (r < 0)
		return r;
	_cleanup_(ZSTD_freeDCtxp) ZSTD_DCtx *dctx = ZSTD_createDCtx();
	_cleanup_free_ void *buf = malloc(DCFS_CHUNK_MAX);
	if (!dctx || !buf)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		int64_t id = sqlite3_column_int64(st, 0);
		dcfs_hash h;
		if (sqlite3_column_bytes(st, 1) != DCFS_HASH_LEN)
			continue; /* the schema's CHECK forbids it */
		memcpy(h.b, sqlite3_column_blob(st, 1), DCFS_HASH_LEN);
		char hex[DCFS_HASH_HEX];
		dcfs_hash_to_hex(&h, hex);
		if (sqlite3_column_int(st, 4)) {
			if (sqlite3_column_int64(st, 5) == 0)
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
			if (c->repair && (r = quarantine(c, id, &h, e)) < 0)
				return r;
			continue;
		}
		/* The content verifies: a size that differs is the catalog's mistake. */
		static const char *const cols[] = {"plain_size", "stored_size"};
		int64_t actual[2] = {n, (int64_t)stored};
		for (int k = 0; k < 2; k++) {
			int64_t recorded = sqlite3_column_int64(st, 2 + k);
			if (recorded == actual[k])
				continue;
			c->rep->problems++;
			say(c, "chunk %s: %s is %lld in the catalog, %lld on disk%s", hex, cols[k],
			    (long long)recorded, (long long)actual[k], c->repair ? " (fixed)" : "");
			if (!c->repair)
				continue;
			char sql[64];
			snprintf(sql, sizeof(sql), "UPDATE chunks SET %s = ?1 WHERE id = ?2", cols[k]);
			r = run_fix(c, sql, actual[k], NULL, id, e);
			if (r < 0)
				return r;
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
	{"chunk references",
	 "SELECT c.id, c.refs, (SELECT count(*) FROM extents x WHERE x.chunk_id = c.id) AS n"
	 " FROM chunks c WHERE c.refs != n",
	 "UPDATE chunks SET refs = ?1 WHERE id = ?2"},
	{"blob references",
	 "SELECT b.id, b.refs, (SELECT count(*) FROM entries en WHERE en.blob_id = b.id) AS n"
	 " FROM blobs b WHERE b.refs != n",
	 "UPDATE blobs SET refs = ?1 WHERE id = ?2"},
};

/* The counts layer_table.h checks, after those above. */
static const struct {
	const char *what;
	dcfs_layer_count which;
} layer_count_checks[] = {
	{"layer references", DCFS_LAYER_REFS},
	{"layer size", DCFS_LAYER_SIZE},
	{"layer entries", DCFS_LAYER_ENTRIES},
};

/* The sums recomputed from the rows: those before the layers' (layer_table.h), those after them
 * and before the workspaces' (workspace_record.h). */
static const char recompute_sums[] =
	"SELECT 'chunks', count(*) FROM chunks"
	" UNION ALL SELECT 'chunk_plain', coalesce(sum(plain_size), 0) FROM chunks"
	" UNION ALL SELECT 'chunk_stored', coalesce(sum(stored_size), 0) FROM chunks"
	" UNION ALL SELECT 'chunks_unref', count(*) FROM chunks WHERE refs = 0"
	" UNION ALL SELECT 'chunk_unref_stored', coalesce(sum(stored_size), 0) FROM chunks WHERE refs = 0"
	" UNION ALL SELECT 'blobs', count(*) FROM blobs"
	" UNION ALL SELECT 'blob_bytes', coalesce(sum(size), 0) FROM blobs";
static const char recompute_sums_after_layers[] =
	"SELECT 'images', count(*) FROM images WHERE kind = 'image'"
	" UNION ALL SELECT 'snapshots', count(*) FROM images WHERE kind = 'snapshot'"
	" UNION ALL SELECT 'image_bytes', coalesce(sum(l.size), 0) FROM image_layers il"
	"   JOIN layers l ON l.id = il.layer_id";

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

/* A layer count that differs: said, and repaired with --repair. */
typedef struct layer_count_mismatch {
	ctx *c;
	const char *what;
	dcfs_layer_count which;
	dcfs_error *e;
	bool fix_failed; /* the error is the repair's: returned as it is */
} layer_count_mismatch;

static int on_layer_count_mismatch(int64_t id, int64_t rec, int64_t act, void *u)
{
	layer_count_mismatch *m = u;
	ctx *c = m->c;
	c->rep->problems++;
	say(c, "%s of row %lld: recorded %lld, actual %lld%s", m->what, (long long)id,
	    (long long)rec, (long long)act, c->repair ? " (fixed)" : "");
	if (!c->repair)
		return 0;
	int r = dcfs_layer_count_set(c->s->db, m->which, id, act, m->e);
	m->fix_failed = r < 0;
	if (r < 0)
		return r;
	c->rep->repaired++;
	return 0;
}

static int check_counts(ctx *c, dcfs_error *e)
{
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
	for (size_t i = 0; i < ELEMENTSOF(layer_count_checks); i++) {
		layer_count_mismatch m = {.c = c, .what = layer_count_checks[i].what,
					  .which = layer_count_checks[i].which, .e = e};
		int r = dcfs_layer_count_mismatches(c->s->db, m.which, on_layer_count_mismatch, &m, e);
		if (r < 0)
			return m.fix_failed ? r : dcfs_error_wrap(e, "checking %s", m.what);
	}
	return 0;
}

/* A sum as recorded: its value, and whether it is still an integer (an overflow in a trigger
 * makes it a float). */
static int recorded_sum(sqlite3_stmt *st, const char *name, int64_t *value, bool *integer,
			dcfs_error *e)
{
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	int r = dcfs_catalog_step(st, e);
	*value = r > 0 ? sqlite3_column_int64(st, 0) : 0;
	*integer = r <= 0 || sqlite3_column_type(st, 0) == SQLITE_INTEGER;
	sqlite3_reset(st);
	return r < 0 ? r : 0;
}

/* One recomputed sum compared with the recorded one (`rec`), repaired with --repair. */
typedef struct sum_check {
	ctx *c;
	sqlite3_stmt *rec;
	dcfs_error *e;
	bool bare; /* the error is not a recomputing query's: returned as it is */
} sum_check;

static int check_sum(const char *name, int64_t actual, void *u)
{
	sum_check *k = u;
	ctx *c = k->c;
	int64_t recorded = 0;
	bool integer = true;
	int r = recorded_sum(k->rec, name, &recorded, &integer, k->e);
	k->bare = r < 0;
	if (r < 0)
		return r;
	if (recorded == actual && integer)
		return 0;
	c->rep->problems++;
	say(c, "sum %s: recorded %lld%s, actual %lld%s", name, (long long)recorded,
	    integer ? "" : " (overflowed: not an integer)", (long long)actual,
	    c->repair ? " (fixed)" : "");
	if (c->repair)
		r = run_fix(c, "UPDATE sums SET value = ?1 WHERE name = ?2", actual, name, 0, k->e);
	k->bare = r < 0;
	return r;
}

/* The sums of the containers and volumes, which their tables' owners recompute. */
static int check_table_sums(sum_check *k)
{
	dcfs_container_figures ct;
	dcfs_volume_figures vt;
	int r = dcfs_container_table_figures(k->c->s, &ct, k->e);
	if (r >= 0)
		r = dcfs_volume_table_figures(k->c->s, &vt, k->e);
	k->bare = false;
	if (r < 0)
		return r;
	const struct {
		const char *name;
		int64_t actual;
	} sums[] = {
		{"containers", ct.containers}, {"containers_running", ct.running},
		{"container_bytes", ct.upper_bytes}, {"volumes", vt.volumes},
		{"volumes_in_use", vt.in_use}, {"volume_bytes", vt.bytes},
	};
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(sums); i++)
		r = check_sum(sums[i].name, sums[i].actual, k);
	return r;
}

static int check_sums(ctx *c, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *rec = NULL;
	int r = dcfs_catalog_prepare(c->s->db, "SELECT value FROM sums WHERE name = ?1", &rec, e);
	if (r < 0)
		return r;
	sum_check k = {.c = c, .rec = rec, .e = e};
	r = dcfs_catalog_each_pair(c->s->db, recompute_sums, check_sum, &k, e);
	if (r >= 0)
		r = dcfs_layer_sums(c->s->db, check_sum, &k, e);
	if (r >= 0)
		r = dcfs_catalog_each_pair(c->s->db, recompute_sums_after_layers, check_sum, &k, e);
	if (r >= 0)
		r = dcfs_workspace_record_sums(c->s->db, check_sum, &k, e);
	if (r >= 0)
		r = check_table_sums(&k);
	if (r < 0 && !k.bare)
		return dcfs_error_wrap(e, "checking the sums");
	return r < 0 ? r : 0;
}

/* A row a dangling-row check found: said. */
typedef struct dangling {
	ctx *c;
	const char *what;
} dangling;

static int on_dangling(int64_t id, void *u)
{
	dangling *d = u;
	d->c->rep->problems++;
	say(d->c, "%s %lld", d->what, (long long)id);
	return 0;
}

static int dangling_query(sqlite3 *db, const char *query, dangling *d, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(db, query, &st, e);
	if (r < 0)
		return r;
	while ((r = dcfs_catalog_step(st, e)) > 0)
		on_dangling(sqlite3_column_int64(st, 0), d);
	return r;
}

static void snapshot_problem(bool missing, int64_t image_id, void *u)
{
	ctx *c = u;
	c->rep->problems++;
	say(c, "%s %lld", missing ? "snapshot without its record: image"
			      : "snapshot record of an image that is not a snapshot: image",
	    (long long)image_id);
}

/* Rows whose parent row is gone (possible only if foreign keys were off when they were written),
 * extents that do not fit their chunk, and files whose extents run past their size. */
static int check_dangling(ctx *c, dcfs_error *e)
{
	/* a query for the rows' ids; NULL: layer_table.h gives them */
	static const struct {
		const char *what, *query;
	} checks[] = {
		{"extent outside its chunk in blob",
		 "SELECT x.blob_id FROM extents x JOIN chunks ch ON ch.id = x.chunk_id"
		 " WHERE x.chunk_off + x.len > ch.plain_size"},
		{"extent past the end of its file in blob",
		 "SELECT x.blob_id FROM extents x JOIN blobs b ON b.id = x.blob_id"
		 " WHERE x.file_off + x.len > b.size"},
		{"regular file without content in layer", NULL},
	};
	for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
		dangling d = {.c = c, .what = checks[i].what};
		int r = checks[i].query ? dangling_query(c->s->db, checks[i].query, &d, e)
					: dcfs_entry_files_without_content(c->s->db, on_dangling, &d, e);
		if (r < 0)
			return r;
	}
	int r = dcfs_snapshot_check(c->s->db, snapshot_problem, c, e);
	if (r < 0)
		return r;
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
			"DELETE FROM extents WHERE chunk_id NOT IN (SELECT id FROM chunks)"
			" OR blob_id NOT IN (SELECT id FROM blobs);";
		int before = sqlite3_total_changes(c->s->db);
		r = dcfs_catalog_exec(c->s->db, drop, e);
		if (r >= 0)
			r = dcfs_entry_drop_dangling(c->s->db, e);
		if (r >= 0)
			r = dcfs_image_layers_drop_dangling(c->s->db, e);
		if (r >= 0)
			r = dcfs_merged_index_drop_dangling(c->s->db, e);
		if (r < 0)
			return r;
		c->rep->repaired += (uint64_t)(sqlite3_total_changes(c->s->db) - before);
	}
	return 0;
}

/* Entries whose size is not their content's (the file would read as other bytes) or is more than
 * a layer may hold (its sums could overflow). Neither can be repaired: the content is unknown. */
static int on_entry_size(const dcfs_entry_size_problem *p, void *u)
{
	ctx *c = u;
	c->rep->problems++;
	if (p->out_of_range)
		say(c, "entry '%s' of layer %lld: size %s is out of range", p->path,
		    (long long)p->layer_id, p->size_text);
	else
		say(c, "entry '%s' of layer %lld: %lld bytes, but its content has %lld", p->path,
		    (long long)p->layer_id, (long long)p->size, (long long)p->content_size);
	return 0;
}

static int check_entry_sizes(ctx *c, dcfs_error *e)
{
	int r = dcfs_entry_size_problems(c->s->db, on_entry_size, c, e);
	return r < 0 ? dcfs_error_wrap(e, "checking entry sizes") : 0;
}

int dcfs_fsck(dcfs_store *s, bool repair, const dcfs_report *findings, dcfs_fsck_report *rep,
	      dcfs_error *e)
{
	ctx c = {.s = s, .repair = repair, .findings = findings, .rep = rep};
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
