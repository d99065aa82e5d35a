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

/* The layer counts layer_table.h checks. */
static const struct {
	const char *what;
	dcfs_layer_count which;
} layer_count_checks[] = {
	{"layer references", DCFS_LAYER_REFS},
	{"layer size", DCFS_LAYER_SIZE},
	{"layer entries", DCFS_LAYER_ENTRIES},
};

/* The image sums, recomputed from the rows after the layers' (layer_table.h) and before the
 * workspaces' (workspace_record.h). */
static const char recompute_image_sums[] =
	"SELECT 'images', count(*) FROM images WHERE kind = 'image'"
	" UNION ALL SELECT 'snapshots', count(*) FROM images WHERE kind = 'snapshot'"
	" UNION ALL SELECT 'image_bytes', coalesce(sum(l.size), 0) FROM image_layers il"
	"   JOIN layers l ON l.id = il.layer_id";

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
	if (dcfs_chunk_table_wrong_refs(c->s->db, wrong_chunk_refs, c, e) < 0)
		return dcfs_error_wrap(e, "checking chunk references");
	if (dcfs_blob_table_wrong_refs(c->s->db, wrong_blob_refs, c, e) < 0)
		return dcfs_error_wrap(e, "checking blob references");
	for (size_t i = 0; i < ELEMENTSOF(layer_count_checks); i++) {
		layer_count_mismatch m = {.c = c, .what = layer_count_checks[i].what,
					  .which = layer_count_checks[i].which, .e = e};
		int r = dcfs_layer_count_mismatches(c->s->db, m.which, on_layer_count_mismatch, &m, e);
		if (r < 0)
			return m.fix_failed ? r : dcfs_error_wrap(e, "checking %s", m.what);
	}
	return 0;
}

/* One recomputed sum compared with the recorded one (an overflow in a trigger may have made
 * that a float), repaired with --repair. */
typedef struct sum_check {
	ctx *c;
	dcfs_error *e;
} sum_check;

static int check_sum(const char *name, int64_t actual, void *u)
{
	sum_check *k = u;
	ctx *c = k->c;
	int64_t recorded = 0;
	bool integer = true;
	int r = dcfs_catalog_sum_recorded(c->s->db, name, &recorded, &integer, k->e);
	if (r < 0 || (recorded == actual && integer))
		return r;
	c->rep->problems++;
	say(c, "sum %s: recorded %lld%s, actual %lld%s", name, (long long)recorded,
	    integer ? "" : " (overflowed: not an integer)", (long long)actual,
	    c->repair ? " (fixed)" : "");
	if (!c->repair)
		return 0;
	r = dcfs_catalog_sum_set(c->s->db, name, actual, k->e);
	if (r >= 0)
		c->rep->repaired++;
	return r;
}

typedef struct figure_sum {
	const char *name;
	int64_t actual;
} figure_sum;

static int check_figures(sum_check *k, const figure_sum *sums, size_t n)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = check_sum(sums[i].name, sums[i].actual, k);
	return r;
}

/* The sums of the chunks and contents, which their tables' owners recompute. */
static int check_content_sums(sum_check *k)
{
	dcfs_chunk_figures ch;
	dcfs_blob_figures bl;
	int r = dcfs_chunk_table_figures(k->c->s->db, &ch, k->e);
	if (r < 0 || (r = dcfs_blob_table_figures(k->c->s->db, &bl, k->e)) < 0)
		return r;
	const figure_sum sums[] = {
		{"chunks", ch.chunks}, {"chunk_plain", ch.plain}, {"chunk_stored", ch.stored},
		{"chunks_unref", ch.unref}, {"chunk_unref_stored", ch.unref_stored},
		{"blobs", bl.blobs}, {"blob_bytes", bl.bytes},
	};
	return check_figures(k, sums, ELEMENTSOF(sums));
}

/* The sums of the containers and volumes, which their tables' owners recompute. */
static int check_record_sums(sum_check *k)
{
	dcfs_container_figures ct;
	dcfs_volume_figures vt;
	int r = dcfs_container_table_figures(k->c->s, &ct, k->e);
	if (r < 0 || (r = dcfs_volume_table_figures(k->c->s, &vt, k->e)) < 0)
		return r;
	const figure_sum sums[] = {
		{"containers", ct.containers}, {"containers_running", ct.running},
		{"container_bytes", ct.upper_bytes}, {"volumes", vt.volumes},
		{"volumes_in_use", vt.in_use}, {"volume_bytes", vt.bytes},
	};
	return check_figures(k, sums, ELEMENTSOF(sums));
}

static int check_sums(ctx *c, dcfs_error *e)
{
	sum_check k = {.c = c, .e = e};
	int r = check_content_sums(&k);
	if (r >= 0)
		r = dcfs_layer_sums(c->s->db, check_sum, &k, e);
	if (r >= 0)
		r = dcfs_catalog_each_pair(c->s->db, recompute_image_sums, check_sum, &k, e);
	if (r >= 0)
		r = dcfs_workspace_record_sums(c->s->db, check_sum, &k, e);
	if (r >= 0)
		r = check_record_sums(&k);
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

static int file_without_content(int64_t layer_id, void *u)
{
	((ctx *)u)->rep->problems++;
	say(u, "regular file without content in layer %lld", (long long)layer_id);
	return 0;
}

static void snapshot_problem(bool missing, int64_t image_id, void *u)
{
	ctx *c = u;
	c->rep->problems++;
	say(c, "%s %lld", missing ? "snapshot without its record: image"
			      : "snapshot record of an image that is not a snapshot: image",
	    (long long)image_id);
}

static void dangling_row(const char *table, const char *parent, void *u)
{
	ctx *c = u;
	c->rep->problems++;
	say(c, "dangling row in %s: its %s row is missing", table, parent);
}

/* Rows whose parent row is gone (possible only if foreign keys were off when they were written),
 * extents that do not fit their chunk, and files whose extents run past their size. */
static int check_dangling(ctx *c, dcfs_error *e)
{
	int r = dcfs_blob_table_extents_outside_chunk(c->s->db, extent_outside_chunk, c, e);
	if (r >= 0)
		r = dcfs_blob_table_extents_past_size(c->s->db, extent_past_size, c, e);
	if (r >= 0)
		r = dcfs_entry_files_without_content(c->s->db, file_without_content, c, e);
	if (r >= 0)
		r = dcfs_snapshot_check(c->s->db, snapshot_problem, c, e);
	if (r < 0)
		return r;
	r = dcfs_catalog_foreign_key_check(c->s->db, dangling_row, c, e);
	if (r < 0)
		return r;
	if (c->repair) {
		int before = dcfs_catalog_total_changes(c->s->db);
		r = dcfs_blob_table_drop_dangling_extents(c->s->db, e);
		if (r >= 0)
			r = dcfs_entry_drop_dangling(c->s->db, e);
		if (r >= 0)
			r = dcfs_image_layers_drop_dangling(c->s->db, e);
		if (r >= 0)
			r = dcfs_merged_index_drop_dangling(c->s->db, e);
		if (r < 0)
			return r;
		c->rep->repaired += (uint64_t)(dcfs_catalog_total_changes(c->s->db) - before);
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

static void catalog_damage(const char *line, void *u)
{
	ctx *c = u;
	c->rep->problems++;
	say(c, "catalog: %s", line);
}

int dcfs_fsck(dcfs_store *s, bool repair, const dcfs_report *findings, dcfs_fsck_report *rep,
	      dcfs_error *e)
{
	ctx c = {.s = s, .repair = repair, .findings = findings, .rep = rep};
	*rep = (dcfs_fsck_report){0};
	bool ok = false;
	int r = dcfs_catalog_quick_check(s->db, catalog_damage, &c, &ok, e);
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
		dcfs_catalog_rollback(s->db);
	return r;
}
