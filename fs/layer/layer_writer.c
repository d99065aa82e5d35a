/* The layer builder (see layer_writer.h).
 *
 * Files up to PACK_SMALL bytes are appended to a pack buffer and share its chunk; larger files
 * are cut into chunks of at most 1 MiB at file offsets, and a hole ends a chunk. Each finished
 * file is a blob: a small one keyed by the SHA-256 of its bytes (and of its hole layout when it
 * has holes), a large one by the SHA-256 of its chunk list (offset, length, chunk hash each), so
 * that its bytes are hashed only once. Each kind of key hashes its own domain tag first, so no
 * input of one kind equals an input of another;
 * a blob already in the catalog or earlier in this layer (of the same size) is referenced, not
 * stored: for a small file its bytes are taken back out of the pack. */
#include "layer_writer.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chunk.h"
#include "cleanup.h"
#include "layer_writer_internal.h"

int ingest_oom(dcfs_error *e)
{
	return dcfs_error_set(e, ENOMEM, "out of memory");
}

int dcfs_layer_writer_new(dcfs_store *s, const char *what, dcfs_layer_writer **out, dcfs_error *e)
{
	_cleanup_(dcfs_layer_writer_freep) dcfs_layer_writer *in = calloc(1, sizeof(*in));
	if (!in)
		return ingest_oom(e);
	in->store = s;
	in->what = what;
	in->pack_chunk = NONE;
	in->cur.entry = NONE;
	dcfs_hasher_init(&in->cur.hasher);
	in->pack = malloc(DCFS_CHUNK_MAX);
	in->cur.cbuf = malloc(DCFS_CHUNK_MAX);
	if (!in->pack || !in->cur.cbuf)
		return ingest_oom(e);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int r = dcfs_chunk_writer_new(s, cpus > 0 ? (int)cpus : 1, &in->writer, e);
	if (r < 0)
		return r;
	r = dcfs_chunk_finder_init(&in->find_chunk, s->db, e);
	if (r < 0)
		return r;
	r = dcfs_blob_finder_init(&in->find_blob, s->db, e);
	if (r < 0)
		return r;
	*out = TAKE_PTR(in);
	return 0;
}

void dcfs_layer_writer_set_level(dcfs_layer_writer *in, int level)
{
	dcfs_chunk_writer_set_level(in->writer, level);
}

void ingest_entry_release(entry *en)
{
	free(en->path);
	free(en->target);
	free(en->xattrs);
}

void dcfs_layer_writer_free(dcfs_layer_writer *in)
{
	if (!in)
		return;
	dcfs_chunk_writer_free(in->writer);
	dcfs_catalog_finder_free(&in->find_chunk);
	dcfs_catalog_finder_free(&in->find_blob);
	for (size_t i = 0; i < in->nentries; i++)
		ingest_entry_release(&in->entries[i]);
	free(in->entries);
	dcfs_map_free(&in->paths);
	free(in->blobs);
	dcfs_map_free(&in->blob_map);
	free(in->extents);
	free(in->chunks);
	dcfs_map_free(&in->chunk_map);
	free(in->pack);
	free(in->cur.cbuf);
	dcfs_hasher_free(&in->cur.hasher);
	free(in);
}

/* ---- chunks ---------------------------------------------------------------------------- */

static int new_chunkref(dcfs_layer_writer *in, const dcfs_hash *h, size_t *idx, dcfs_error *e)
{
	if (GROW(in->chunks, in->nchunks, in->chunks_cap) < 0)
		return ingest_oom(e);
	*idx = in->nchunks++;
	in->chunks[*idx] = (chunkref){.hash = h ? *h : (dcfs_hash){{0}}};
	return 0;
}

/* Is the chunk already durable in the store (and not quarantined)? */
static int chunk_in_catalog(dcfs_layer_writer *in, const dcfs_hash *h, bool *present, dcfs_error *e)
{
	dcfs_chunk_found found;
	int r = dcfs_chunk_finder_find(&in->find_chunk, h, &found, e);
	*present = r > 0 && !found.quarantined;
	return r < 0 ? r : 0;
}

/* Make sure chunk `h` with these bytes will exist after publish; returns its chunk index. */
static int store_chunk(dcfs_layer_writer *in, const dcfs_hash *h, const void *data, uint32_t len,
		       size_t *idx, dcfs_error *e)
{
	if (dcfs_map_get(&in->chunk_map, h->b, DCFS_HASH_LEN, idx))
		return 0;
	bool present = false;
	int r = chunk_in_catalog(in, h, &present, e);
	if (r < 0)
		return r;
	if (!present) {
		r = dcfs_chunk_writer_put(in->writer, h, data, len, e);
		if (r < 0)
			return r;
		in->stats.new_chunks++;
		in->stats.new_plain_bytes += len;
	}
	r = new_chunkref(in, h, idx, e);
	if (r < 0)
		return r;
	if (dcfs_map_put(&in->chunk_map, h->b, DCFS_HASH_LEN, *idx) < 0)
		return ingest_oom(e);
	return 0;
}

int ingest_flush_pack(dcfs_layer_writer *in, dcfs_error *e)
{
	if (in->pack_chunk == NONE)
		return 0;
	size_t placeholder = in->pack_chunk;
	in->pack_chunk = NONE;
	if (in->pack_len == 0)
		return 0; /* every file in it turned out to be known: the slot stays unused */
	dcfs_hash h;
	dcfs_hash_buf(in->pack, in->pack_len, &h);
	size_t real;
	int r = store_chunk(in, &h, in->pack, in->pack_len, &real, e);
	if (r < 0)
		return r;
	/* Point the pack's extents at the real chunk slot. */
	for (size_t i = in->pack_first_extent; i < in->nextents; i++)
		if (in->extents[i].chunk == placeholder)
			in->extents[i].chunk = real;
	in->pack_len = 0;
	return 0;
}

static int add_extent(dcfs_layer_writer *in, uint64_t file_off, size_t chunk, uint32_t chunk_off,
		      uint32_t len, dcfs_error *e)
{
	if (GROW(in->extents, in->nextents, in->extents_cap) < 0)
		return ingest_oom(e);
	in->extents[in->nextents++] =
		(extent){.file_off = file_off, .chunk = chunk, .chunk_off = chunk_off, .len = len};
	return 0;
}

/* A large file's filled chunk becomes a chunk of its own. */
static int flush_file_chunk(dcfs_layer_writer *in, dcfs_error *e)
{
	current *c = &in->cur;
	if (c->clen == 0)
		return 0;
	dcfs_hash h;
	dcfs_hash_buf(c->cbuf, c->clen, &h);
	size_t idx;
	int r = store_chunk(in, &h, c->cbuf, c->clen, &idx, e);
	if (r < 0)
		return r;
	r = add_extent(in, c->coff, idx, 0, c->clen, e);
	/* A large file's key covers its chunk list: each byte is hashed once, for its chunk. */
	uint64_t rec[2] = {c->coff, c->clen};
	dcfs_hasher_update(&c->hasher, rec, sizeof(rec));
	dcfs_hasher_update(&c->hasher, h.b, DCFS_HASH_LEN);
	c->clen = 0;
	return r;
}

/* ---- files ----------------------------------------------------------------------------- */

/* The domain tag each kind of blob key hashes first: "dcfs-blob-v2", NUL, the kind, NUL. No
 * kind with its NUL is a prefix of another, so an input that makes a key of one kind never makes
 * a key of another kind. */
static void key_domain(dcfs_hasher *h, const char *kind)
{
	static const char tag[] = "dcfs-blob-v2";
	dcfs_hasher_update(h, tag, sizeof(tag));
	dcfs_hasher_update(h, kind, strlen(kind) + 1);
}

void ingest_open_file(dcfs_layer_writer *in, size_t entry_idx, uint64_t size)
{
	current *c = &in->cur;
	c->entry = entry_idx;
	c->small = size <= PACK_SMALL;
	/* The hasher is fresh: every file ends with a final (see ingest_close_file). */
	key_domain(&c->hasher, c->small ? "small" : "chunked");
	c->next_off = 0;
	c->data_bytes = 0;
	c->first_extent = in->nextents;
	c->holes = false;
	c->clen = 0;
	c->coff = 0;
	c->pack_start = in->pack_len;
}

int dcfs_layer_writer_data(dcfs_layer_writer *in, uint64_t off, const void *buf, size_t len, dcfs_error *e)
{
	current *c = &in->cur;
	if (c->entry == NONE)
		return dcfs_error_set(e, EINVAL, "data without a regular file");
	entry *en = &in->entries[c->entry];
	if (off < c->next_off || off + len > en->size || off + len < off)
		return dcfs_error_set(e, EINVAL, "%s '%s': data at offset %llu does not fit its size %llu",
				      in->what, en->path, (unsigned long long)off,
				      (unsigned long long)en->size);
	if (len == 0)
		return 0;
	if (off != c->next_off)
		c->holes = true;
	if (c->small)
		dcfs_hasher_update(&c->hasher, buf, len);
	c->data_bytes += len;
	const unsigned char *p = buf;
	if (c->small) {
		/* The pack was flushed in add() if the whole file would not fit. */
		if (in->nextents == c->first_extent ||
		    in->extents[in->nextents - 1].file_off + in->extents[in->nextents - 1].len != off) {
			int r = add_extent(in, off, in->pack_chunk, in->pack_len, 0, e);
			if (r < 0)
				return r;
		}
		memcpy(in->pack + in->pack_len, p, len);
		in->pack_len += (uint32_t)len;
		in->extents[in->nextents - 1].len += (uint32_t)len;
		c->next_off = off + len;
		return 0;
	}
	if (c->clen && off != c->coff + c->clen) {
		int r = flush_file_chunk(in, e);
		if (r < 0)
			return r;
	}
	while (len) {
		if (c->clen == 0)
			c->coff = off;
		size_t n = DCFS_CHUNK_MAX - c->clen;
		if (n > len)
			n = len;
		memcpy(c->cbuf + c->clen, p, n);
		c->clen += (uint32_t)n;
		p += n;
		off += n;
		len -= n;
		if (c->clen == DCFS_CHUNK_MAX) {
			int r = flush_file_chunk(in, e);
			if (r < 0)
				return r;
		}
	}
	c->next_off = off;
	return 0;
}

/* A small file's blob key: the SHA-256 of its bytes (in the "small" domain), or when it has
 * holes the SHA-256 of its size, its hole layout and that hash (in the "sparse" domain). */
static void blob_key(dcfs_layer_writer *in, const dcfs_hash *data_hash, uint64_t size, bool holes,
		     dcfs_hash *out)
{
	current *c = &in->cur;
	if (!holes) {
		*out = *data_hash;
		return;
	}
	key_domain(&c->hasher, "sparse");
	dcfs_hasher_update(&c->hasher, &size, sizeof(size));
	for (size_t i = c->first_extent; i < in->nextents; i++) {
		uint64_t v[2] = {in->extents[i].file_off, in->extents[i].len};
		dcfs_hasher_update(&c->hasher, v, sizeof(v));
	}
	dcfs_hasher_update(&c->hasher, data_hash->b, DCFS_HASH_LEN);
	dcfs_hasher_final(&c->hasher, out);
}

/* A key that matches content of another size is not that content (a key made before the
 * domains were separated, or a broken catalog): refuse rather than serve the wrong bytes. */
static int size_mismatch(dcfs_layer_writer *in, const entry *en, uint64_t found, dcfs_error *e)
{
	return dcfs_error_set(e, EIO,
			      "%s '%s': its content key matches stored content of %llu bytes, not %llu;"
			      " refusing to reuse it (run 'dcfs fsck')",
			      in->what, en->path, (unsigned long long)found, (unsigned long long)en->size);
}

/* Known content: *idx when earlier in this layer, else *id when in the catalog (*damaged when
 * one of its chunks is quarantined, so that this copy of the bytes must be kept to heal it).
 * A match must have the entry's size. */
static int find_blob(dcfs_layer_writer *in, const entry *en, const dcfs_hash *h, size_t *idx, int64_t *id,
		     bool *damaged, dcfs_error *e)
{
	*idx = NONE;
	*id = 0;
	*damaged = false;
	if (dcfs_map_get(&in->blob_map, h->b, DCFS_HASH_LEN, idx))
		return in->blobs[*idx].size == en->size ? 0 : size_mismatch(in, en, in->blobs[*idx].size, e);
	dcfs_blob_found found;
	int r = dcfs_blob_finder_find(&in->find_blob, h, &found, e);
	int64_t size = found.size;
	*id = found.id;
	*damaged = found.damaged;
	if (r < 0)
		return r;
	if (r > 0 && (size < 0 || (uint64_t)size != en->size))
		return size_mismatch(in, en, (uint64_t)size, e);
	return 0;
}

int ingest_close_file(dcfs_layer_writer *in, dcfs_error *e)
{
	current *c = &in->cur;
	if (c->entry == NONE)
		return 0;
	size_t eidx = c->entry;
	c->entry = NONE;
	entry *en = &in->entries[eidx];
	int r = 0;
	if (!c->small)
		r = flush_file_chunk(in, e);
	if (r < 0)
		return r;
	if (en->size == 0) {
		/* empty files have no blob; the final leaves the hasher fresh for the next file */
		dcfs_hasher_final(&c->hasher, &(dcfs_hash){{0}});
		return 0;
	}
	bool holes = c->holes || c->next_off != en->size;
	dcfs_hash data_hash, key;
	if (c->small) {
		dcfs_hasher_final(&c->hasher, &data_hash);
		blob_key(in, &data_hash, en->size, holes, &key);
	} else {
		/* the chunk list (offsets, lengths, hashes) already holds the layout */
		dcfs_hasher_update(&c->hasher, &en->size, sizeof(en->size));
		dcfs_hasher_final(&c->hasher, &key);
	}

	size_t idx;
	int64_t id;
	bool damaged;
	r = find_blob(in, en, &key, &idx, &id, &damaged, e);
	if (r < 0)
		return r;
	if (idx != NONE || (id > 0 && !damaged)) {
		/* Known content: drop what this file added. */
		in->stats.dedup_bytes += en->size;
		in->nextents = c->first_extent;
		if (c->small)
			in->pack_len = c->pack_start;
	}
	if (idx == NONE) {
		if (GROW(in->blobs, in->nblobs, in->blobs_cap) < 0)
			return ingest_oom(e);
		idx = in->nblobs++;
		in->blobs[idx] = (blob){.hash = key,
					.size = en->size,
					.first_extent = c->first_extent,
					.nextents = id > 0 && !damaged ? 0 : in->nextents - c->first_extent,
					.id = id,
					.heal = damaged};
		if (dcfs_map_put(&in->blob_map, key.b, DCFS_HASH_LEN, idx) < 0)
			return ingest_oom(e);
	}
	in->entries[eidx].blob = idx;
	return 0;
}

int ingest_make_room(dcfs_layer_writer *in, uint64_t size, dcfs_error *e)
{
	if (size > PACK_SMALL || size == 0 ||
	    (in->pack_chunk != NONE && in->pack_len + size <= DCFS_CHUNK_MAX))
		return 0;
	int r = ingest_flush_pack(in, e);
	if (r == 0)
		r = new_chunkref(in, NULL, &in->pack_chunk, e);
	if (r < 0)
		return r;
	in->pack_first_extent = in->nextents;
	return 0;
}
