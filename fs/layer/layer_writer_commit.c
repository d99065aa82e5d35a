/* Committing a layer (see layer_writer.h): publish the staged chunks durably, then record chunks,
 * blobs (healing those whose chunk was quarantined), the layer with its entries, the image and
 * its merged index in one transaction. */
#include "layer_writer.h"

#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "image_record.h"
#include "layer_table.h"
#include "layer_writer_internal.h"

/* ---- commit ---------------------------------------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const entry *)a)->path, ((const entry *)b)->path);
}

static void put_u64(dcfs_hasher *h, uint64_t v)
{
	dcfs_hasher_update(h, &v, sizeof(v));
}

/* The layer digest: a SHA-256 over the sorted index, content by blob hash. */
void ingest_layer_digest(dcfs_layer_writer *in, char out[8 + DCFS_HASH_HEX])
{
	dcfs_hasher h;
	dcfs_hasher_init(&h);
	for (size_t i = 0; i < in->nentries; i++) {
		entry *en = &in->entries[i];
		dcfs_hasher_update(&h, en->path, strlen(en->path) + 1);
		dcfs_hasher_update(&h, &en->type, 1);
		put_u64(&h, en->mode);
		put_u64(&h, en->uid);
		put_u64(&h, en->gid);
		put_u64(&h, (uint64_t)en->mtime_ns);
		put_u64(&h, en->size);
		put_u64(&h, en->rdev);
		put_u64(&h, en->opaque);
		dcfs_hasher_update(&h, en->target ? en->target : "", en->target ? strlen(en->target) + 1 : 1);
		put_u64(&h, en->xattrs_len);
		dcfs_hasher_update(&h, en->xattrs, en->xattrs_len);
		if (en->blob != NONE)
			dcfs_hasher_update(&h, in->blobs[en->blob].hash.b, DCFS_HASH_LEN);
	}
	dcfs_hash d;
	dcfs_hasher_final(&h, &d);
	dcfs_hasher_free(&h);
	memcpy(out, "sha256:", 7);
	dcfs_hash_to_hex(&d, out + 7);
}

static int step_done(sqlite3_stmt *st, dcfs_error *e)
{
	int r = dcfs_catalog_step(st, e);
	sqlite3_reset(st);
	return r < 0 ? r : 0;
}

int ingest_insert_chunks(dcfs_layer_writer *in, dcfs_error *e)
{
	sqlite3 *db = in->store->db;
	_cleanup_stmt_ sqlite3_stmt *ins = NULL;
	int r = dcfs_catalog_prepare(db,
				     "INSERT INTO chunks(hash, plain_size, stored_size) VALUES (?1, ?2, ?3)"
				     " ON CONFLICT(hash) DO UPDATE SET quarantined = 0,"
				     " stored_size = excluded.stored_size",
				     &ins, e);
	if (r < 0)
		return r;
	size_t n;
	const dcfs_staged_chunk *staged = dcfs_chunk_writer_chunks(in->writer, &n);
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_blob(ins, 1, staged[i].hash.b, DCFS_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, staged[i].plain_size);
		sqlite3_bind_int64(ins, 3, staged[i].stored_size);
		r = step_done(ins, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int chunk_id(dcfs_layer_writer *in, sqlite3_stmt *sel, size_t idx, int64_t *id, dcfs_error *e)
{
	chunkref *c = &in->chunks[idx];
	if (c->id == 0) {
		sqlite3_bind_blob(sel, 1, c->hash.b, DCFS_HASH_LEN, SQLITE_STATIC);
		int r = dcfs_catalog_step(sel, e);
		if (r > 0)
			c->id = sqlite3_column_int64(sel, 0);
		sqlite3_reset(sel);
		if (r < 0)
			return r;
		if (r == 0)
			return dcfs_error_set(e, EIO, "catalog: chunk of a new file is missing");
	}
	*id = c->id;
	return 0;
}

static int insert_blobs(dcfs_layer_writer *in, dcfs_error *e)
{
	sqlite3 *db = in->store->db;
	_cleanup_stmt_ sqlite3_stmt *ins = NULL, *ext = NULL, *sel = NULL, *find = NULL, *drop = NULL;
	int r = dcfs_catalog_prepare(db, "INSERT INTO blobs(hash, size) VALUES (?1, ?2)", &ins, e);
	if (r >= 0)
		r = dcfs_catalog_prepare(db,
					 "INSERT INTO extents(blob_id, file_off, chunk_id, chunk_off, len)"
					 " VALUES (?1, ?2, ?3, ?4, ?5)",
					 &ext, e);
	if (r >= 0)
		r = dcfs_catalog_prepare(db, "SELECT id FROM chunks WHERE hash = ?1", &sel, e);
	if (r >= 0)
		r = dcfs_catalog_prepare(db, "SELECT id, size FROM blobs WHERE hash = ?1", &find, e);
	if (r >= 0)
		r = dcfs_catalog_prepare(db, "DELETE FROM extents WHERE blob_id = ?1", &drop, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < in->nblobs; i++) {
		blob *b = &in->blobs[i];
		if (!b->used || (b->id > 0 && !b->heal))
			continue;
		if (b->heal) {
			/* The stored copy lost a chunk: point the blob at the bytes just stored. */
			sqlite3_bind_int64(drop, 1, b->id);
			r = step_done(drop, e);
			if (r < 0)
				return r;
		} else {
			/* Another writer may have added the same content since we looked. */
			sqlite3_bind_blob(find, 1, b->hash.b, DCFS_HASH_LEN, SQLITE_STATIC);
			r = dcfs_catalog_step(find, e);
			if (r > 0) {
				b->id = sqlite3_column_int64(find, 0);
				if (sqlite3_column_int64(find, 1) != (int64_t)b->size)
					r = dcfs_error_set(e, EIO, "catalog: content of %llu bytes has the key of"
							   " stored content of %lld bytes; refusing to reuse it",
							   (unsigned long long)b->size,
							   (long long)sqlite3_column_int64(find, 1));
			}
			sqlite3_reset(find);
			if (r < 0)
				return r;
			if (b->id > 0)
				continue;
			sqlite3_bind_blob(ins, 1, b->hash.b, DCFS_HASH_LEN, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 2, (int64_t)b->size);
			r = step_done(ins, e);
			if (r < 0)
				return r;
			b->id = sqlite3_last_insert_rowid(db);
		}
		for (size_t k = 0; k < b->nextents; k++) {
			extent *x = &in->extents[b->first_extent + k];
			int64_t cid = 0;
			r = chunk_id(in, sel, x->chunk, &cid, e);
			if (r < 0)
				return r;
			sqlite3_bind_int64(ext, 1, b->id);
			sqlite3_bind_int64(ext, 2, (int64_t)x->file_off);
			sqlite3_bind_int64(ext, 3, cid);
			sqlite3_bind_int64(ext, 4, x->chunk_off);
			sqlite3_bind_int64(ext, 5, x->len);
			r = step_done(ext, e);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int insert_layer_row(dcfs_layer_writer *in, const char *digest, const char *source,
			    int64_t *layer_id, dcfs_error *e)
{
	uint64_t files = 0, size = 0;
	for (size_t i = 0; i < in->nentries; i++)
		if (in->entries[i].type == DCFS_T_FILE) {
			files++;
			size += in->entries[i].size;
		}
	dcfs_layer_row row = {.digest = digest, .source = source, .entries = (int64_t)in->nentries,
			      .files = (int64_t)files, .size = (int64_t)size};
	return dcfs_layer_insert(in->store->db, &row, layer_id, e);
}

static int insert_entries(dcfs_layer_writer *in, int64_t layer_id, dcfs_error *e)
{
	dcfs_entry_writer w;
	int r = dcfs_entry_writer_open(in->store->db, layer_id, &w, e);
	for (size_t i = 0; r >= 0 && i < in->nentries; i++) {
		const entry *en = &in->entries[i];
		dcfs_entry_row row = {.path = en->path, .type = en->type, .mode = en->mode,
				      .uid = en->uid, .gid = en->gid, .mtime_ns = en->mtime_ns,
				      .size = en->size, .target = en->target, .rdev = en->rdev,
				      .opaque = en->opaque, .xattrs = en->xattrs,
				      .xattrs_len = en->xattrs_len,
				      .blob_id = en->blob != NONE ? in->blobs[en->blob].id : 0};
		r = dcfs_entry_writer_add(&w, &row, e);
	}
	dcfs_entry_writer_free(&w);
	return r < 0 ? r : 0;
}

int ingest_insert_layer(dcfs_layer_writer *in, const char *digest, const char *source, int64_t *layer_id,
			dcfs_error *e)
{
	/* Blobs first, even when the layer exists: a blob to heal must be re-pointed either way
	 * (the others are found and skipped). */
	int r = insert_blobs(in, e);
	if (r < 0)
		return r;
	int64_t existing = 0;
	r = dcfs_layer_find_by_digest(in->store->db, digest, &existing, e);
	if (r < 0)
		return r;
	if (existing > 0) {
		*layer_id = existing;
		return 0;
	}
	r = insert_layer_row(in, digest, source, layer_id, e);
	if (r >= 0)
		r = insert_entries(in, *layer_id, e);
	return r;
}

/* The image row of a one-layer image: its digest covers its config and its layer. */
static int insert_image(dcfs_layer_writer *in, const char *ref, const char *kind, const char *config,
			const char *layer_digest_hex, int64_t layer_id, dcfs_error *e)
{
	dcfs_hasher h;
	dcfs_hasher_init(&h);
	dcfs_hasher_update(&h, config, strlen(config) + 1);
	dcfs_hasher_update(&h, layer_digest_hex, strlen(layer_digest_hex));
	dcfs_hash d;
	dcfs_hasher_final(&h, &d);
	dcfs_hasher_free(&h);
	char digest[8 + DCFS_HASH_HEX] = "sha256:";
	dcfs_hash_to_hex(&d, digest + 7);
	return dcfs_image_record_in(in->store->db, ref, kind, config, digest, &layer_id, 1, e);
}

int ingest_finish(dcfs_layer_writer *in, dcfs_error *e)
{
	int r = ingest_close_file(in, e);
	if (r == 0)
		r = ingest_flush_pack(in, e);
	/* Every layer has a root directory: the parents of a top-level name include it. */
	if (r == 0 && !dcfs_map_get(&in->paths, "", 0, &(size_t){0}))
		r = ingest_ensure_parents(in, "x", e);
	if (r < 0)
		return r;
	r = dcfs_chunk_writer_publish(in->writer, e);
	if (r < 0)
		return r;
	in->stats.new_stored_bytes = dcfs_chunk_writer_stored_bytes(in->writer);

	/* Sorting invalidates the path map; it is not used after this point. */
	qsort(in->entries, in->nentries, sizeof(entry), cmp_entry);
	dcfs_map_free(&in->paths);
	for (size_t i = 0; i < in->nentries; i++)
		if (in->entries[i].blob != NONE)
			in->blobs[in->entries[i].blob].used = true;
	return 0;
}

int ingest_commit_layer(dcfs_layer_writer *in, const char *source, const char *ref, const char *kind,
			const char *config_json, int64_t *layer_id, dcfs_error *e)
{
	int r = ingest_finish(in, e);
	if (r < 0)
		return r;
	char digest[8 + DCFS_HASH_HEX];
	ingest_layer_digest(in, digest);
	sqlite3 *db = in->store->db;
	r = dcfs_catalog_exec(db, "BEGIN IMMEDIATE", e);
	if (r < 0)
		return r;
	r = ingest_insert_chunks(in, e);
	if (r >= 0)
		r = ingest_insert_layer(in, digest, source, layer_id, e);
	if (r >= 0 && ref)
		r = insert_image(in, ref, kind, config_json, digest, *layer_id, e);
	if (r >= 0)
		r = dcfs_catalog_check_sums(db, e);
	if (r >= 0)
		r = dcfs_catalog_exec(db, "COMMIT", e);
	if (r < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return r < 0 ? r : 0;
}

int dcfs_layer_writer_commit(dcfs_layer_writer *in, const char *ref, const char *kind, const char *config_json,
		       const char *source, const dcfs_layer_writer_stats **stats, dcfs_error *e)
{
	int64_t layer_id = 0;
	int r = ingest_commit_layer(in, source, ref, kind, config_json, &layer_id, e);
	if (r < 0)
		return r;
	if (stats)
		*stats = &in->stats;
	return 0;
}
