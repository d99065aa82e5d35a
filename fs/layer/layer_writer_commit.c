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

int ingest_insert_chunks(dcfs_layer_writer *in, dcfs_error *e)
{
	size_t n;
	const dcfs_staged_chunk *staged = dcfs_chunk_writer_chunks(in->writer, &n);
	return dcfs_chunk_table_add(in->store->db, staged, n, e);
}

static int chunk_id(dcfs_layer_writer *in, size_t idx, int64_t *id, dcfs_error *e)
{
	chunkref *c = &in->chunks[idx];
	if (c->id == 0) {
		dcfs_chunk_found found;
		int r = dcfs_chunk_finder_find(&in->find_chunk, &c->hash, &found, e);
		c->id = found.id;
		if (r < 0)
			return r;
		if (r == 0)
			return dcfs_error_set(e, EIO, "catalog: chunk of a new file is missing");
	}
	*id = c->id;
	return 0;
}

/* Another writer may have added the same content since we looked: take its id. */
static int find_added_blob(dcfs_layer_writer *in, blob *b, dcfs_error *e)
{
	dcfs_blob_found found;
	int r = dcfs_blob_finder_find(&in->find_blob, &b->hash, &found, e);
	b->id = found.id;
	if (r > 0 && found.size != (int64_t)b->size)
		return dcfs_error_set(e, EIO, "catalog: content of %llu bytes has the key of"
				      " stored content of %lld bytes; refusing to reuse it",
				      (unsigned long long)b->size, (long long)found.size);
	return r < 0 ? r : 0;
}

static int insert_blob(dcfs_layer_writer *in, dcfs_blob_writer *w, blob *b, dcfs_error *e)
{
	int r;
	if (b->heal) {
		/* The stored copy lost a chunk: point the blob at the bytes just stored. */
		r = dcfs_blob_writer_drop_extents(w, b->id, e);
	} else {
		r = find_added_blob(in, b, e);
		if (r < 0 || b->id > 0)
			return r;
		r = dcfs_blob_writer_add(w, &b->hash, b->size, &b->id, e);
	}
	for (size_t k = 0; r >= 0 && k < b->nextents; k++) {
		extent *x = &in->extents[b->first_extent + k];
		int64_t cid = 0;
		r = chunk_id(in, x->chunk, &cid, e);
		if (r >= 0)
			r = dcfs_blob_writer_extent(w, b->id, x->file_off, cid, x->chunk_off, x->len, e);
	}
	return r < 0 ? r : 0;
}

static int insert_blobs(dcfs_layer_writer *in, dcfs_error *e)
{
	_cleanup_(dcfs_blob_writer_free) dcfs_blob_writer w = {0};
	int r = dcfs_blob_writer_init(&w, in->store->db, e);
	for (size_t i = 0; r >= 0 && i < in->nblobs; i++) {
		blob *b = &in->blobs[i];
		if (b->used && (b->id <= 0 || b->heal))
			r = insert_blob(in, &w, b, e);
	}
	return r < 0 ? r : 0;
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
		dcfs_catalog_rollback(db);
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
