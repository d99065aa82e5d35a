/* The layer builder (see ingest.h).
 *
 * Files up to PACK_SMALL bytes are appended to a pack buffer and share its chunk; larger files
 * are cut into chunks of at most 1 MiB at file offsets, and a hole ends a chunk. Each finished
 * file is a blob: a small one keyed by the SHA-256 of its bytes (and of its hole layout when it
 * has holes), a large one by the SHA-256 of its chunk list (offset, length, chunk hash each), so
 * that its bytes are hashed only once;
 * a blob already in the catalog or earlier in this layer is referenced, not stored: for a small
 * file its bytes are taken back out of the pack. */
#include "ingest.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "chunk.h"
#include "chunk_writer.h"
#include "cleanup.h"
#include "image_index.h"
#include "map.h"
#include "path.h"

#define PACK_SMALL (64u * 1024)
#define NONE ((size_t)-1)

typedef struct entry {
	char *path;
	char type;
	bool opaque, implicit, has_children;
	uint32_t mode, uid, gid;
	int64_t mtime_ns;
	uint64_t size, rdev;
	char *target;
	unsigned char *xattrs;
	size_t xattrs_len;
	size_t blob; /* index into blobs, or NONE */
} entry;

typedef struct chunkref {
	dcfs_hash hash; /* for a pack: set when the pack is flushed */
	int64_t id;     /* catalog id, filled at commit */
} chunkref;

typedef struct extent {
	uint64_t file_off;
	size_t chunk; /* index into chunks */
	uint32_t chunk_off, len;
} extent;

typedef struct blob {
	dcfs_hash hash;
	uint64_t size;
	size_t first_extent, nextents; /* into extents; nextents 0 with id > 0: already in the store */
	int64_t id;                    /* catalog id when it already exists */
	bool used;
	bool heal; /* it exists but a chunk of it is quarantined: replace its extents */
} blob;

/* The file whose data is arriving. */
typedef struct current {
	size_t entry; /* NONE when no file is open */
	bool small;
	uint64_t next_off, data_bytes;
	size_t first_extent;
	uint32_t pack_start; /* small files: where the file's bytes start in the pack */
	bool holes;
	dcfs_hasher hasher;
	/* large files: the chunk being filled */
	unsigned char *cbuf;
	uint32_t clen;
	uint64_t coff;
} current;

struct dcfs_ingest {
	dcfs_store *store;
	const char *what;
	dcfs_chunk_writer *writer;
	sqlite3_stmt *find_chunk, *find_blob;

	entry *entries;
	size_t nentries, entries_cap;
	dcfs_map paths; /* path -> entry index */

	blob *blobs;
	size_t nblobs, blobs_cap;
	dcfs_map blob_map; /* hash -> blob index */

	extent *extents;
	size_t nextents, extents_cap;

	chunkref *chunks;
	size_t nchunks, chunks_cap;
	dcfs_map chunk_map; /* hash -> chunk index (chunks known present or staged) */

	unsigned char *pack;
	uint32_t pack_len;
	size_t pack_chunk; /* chunk index of the open pack, NONE when none */
	size_t pack_first_extent; /* the first extent that may point into the open pack */

	current cur;
	dcfs_ingest_stats stats;
};

#define GROW(arr, n, cap)                                                                          \
	({                                                                                         \
		int _r = 0;                                                                        \
		if ((n) == (cap)) {                                                                \
			size_t _c = (cap) ? (cap) * 2 : 64;                                        \
			void *_p = realloc((arr), _c * sizeof(*(arr)));                            \
			if (_p) {                                                                  \
				(arr) = _p;                                                        \
				(cap) = _c;                                                        \
			} else {                                                                   \
				_r = -ENOMEM;                                                      \
			}                                                                          \
		}                                                                                  \
		_r;                                                                                \
	})

static int oom(dcfs_error *e)
{
	return dcfs_error_set(e, ENOMEM, "out of memory");
}

int dcfs_ingest_new(dcfs_store *s, const char *what, dcfs_ingest **out, dcfs_error *e)
{
	_cleanup_(dcfs_ingest_freep) dcfs_ingest *in = calloc(1, sizeof(*in));
	if (!in)
		return oom(e);
	in->store = s;
	in->what = what;
	in->pack_chunk = NONE;
	in->cur.entry = NONE;
	dcfs_hasher_init(&in->cur.hasher);
	in->pack = malloc(DCFS_CHUNK_MAX);
	in->cur.cbuf = malloc(DCFS_CHUNK_MAX);
	if (!in->pack || !in->cur.cbuf)
		return oom(e);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int r = dcfs_chunk_writer_new(s, cpus > 0 ? (int)cpus : 1, &in->writer, e);
	if (r < 0)
		return r;
	r = dcfs_catalog_prepare(s->db, "SELECT quarantined FROM chunks WHERE hash = ?1", &in->find_chunk, e);
	if (r < 0)
		return r;
	r = dcfs_catalog_prepare(s->db,
				 "SELECT b.id, EXISTS (SELECT 1 FROM extents x JOIN chunks c ON c.id = x.chunk_id"
				 " WHERE x.blob_id = b.id AND c.quarantined) FROM blobs b WHERE b.hash = ?1",
				 &in->find_blob, e);
	if (r < 0)
		return r;
	*out = TAKE_PTR(in);
	return 0;
}

static void entry_release(entry *en)
{
	free(en->path);
	free(en->target);
	free(en->xattrs);
}

void dcfs_ingest_free(dcfs_ingest *in)
{
	if (!in)
		return;
	dcfs_chunk_writer_free(in->writer);
	sqlite3_finalize(in->find_chunk);
	sqlite3_finalize(in->find_blob);
	for (size_t i = 0; i < in->nentries; i++)
		entry_release(&in->entries[i]);
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

static int new_chunkref(dcfs_ingest *in, const dcfs_hash *h, size_t *idx, dcfs_error *e)
{
	if (GROW(in->chunks, in->nchunks, in->chunks_cap) < 0)
		return oom(e);
	*idx = in->nchunks++;
	in->chunks[*idx] = (chunkref){.hash = h ? *h : (dcfs_hash){{0}}};
	return 0;
}

/* Is the chunk already durable in the store (and not quarantined)? */
static int chunk_in_catalog(dcfs_ingest *in, const dcfs_hash *h, bool *present, dcfs_error *e)
{
	sqlite3_stmt *st = in->find_chunk;
	sqlite3_reset(st);
	sqlite3_bind_blob(st, 1, h->b, DCFS_HASH_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*present = sqlite3_column_int(st, 0) == 0;
		/* reset now: a statement left on a row keeps an old read snapshot open, and our
		 * commit would then fail with SQLITE_BUSY_SNAPSHOT once another writer commits */
		sqlite3_reset(st);
		return 0;
	}
	if (rc == SQLITE_DONE) {
		*present = false;
		return 0;
	}
	return dcfs_catalog_error(in->store->db, e, "catalog");
}

/* Make sure chunk `h` with these bytes will exist after publish; returns its chunk index. */
static int store_chunk(dcfs_ingest *in, const dcfs_hash *h, const void *data, uint32_t len,
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
		return oom(e);
	return 0;
}

static int flush_pack(dcfs_ingest *in, dcfs_error *e)
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

static int add_extent(dcfs_ingest *in, uint64_t file_off, size_t chunk, uint32_t chunk_off,
		      uint32_t len, dcfs_error *e)
{
	if (GROW(in->extents, in->nextents, in->extents_cap) < 0)
		return oom(e);
	in->extents[in->nextents++] =
		(extent){.file_off = file_off, .chunk = chunk, .chunk_off = chunk_off, .len = len};
	return 0;
}

/* A large file's filled chunk becomes a chunk of its own. */
static int flush_file_chunk(dcfs_ingest *in, dcfs_error *e)
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

static void open_file(dcfs_ingest *in, size_t entry_idx, uint64_t size)
{
	current *c = &in->cur;
	c->entry = entry_idx;
	c->small = size <= PACK_SMALL;
	c->next_off = 0;
	c->data_bytes = 0;
	c->first_extent = in->nextents;
	c->holes = false;
	c->clen = 0;
	c->coff = 0;
	c->pack_start = in->pack_len;
}

int dcfs_ingest_data(dcfs_ingest *in, uint64_t off, const void *buf, size_t len, dcfs_error *e)
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

/* The blob key: the SHA-256 of the bytes, mixed with the hole layout when there are holes. */
static void blob_key(dcfs_ingest *in, const dcfs_hash *data_hash, uint64_t size, bool holes,
		     dcfs_hash *out)
{
	current *c = &in->cur;
	if (!holes) {
		*out = *data_hash;
		return;
	}
	dcfs_hasher_update(&c->hasher, "dcfs-sparse", 12);
	dcfs_hasher_update(&c->hasher, &size, sizeof(size));
	for (size_t i = c->first_extent; i < in->nextents; i++) {
		uint64_t v[2] = {in->extents[i].file_off, in->extents[i].len};
		dcfs_hasher_update(&c->hasher, v, sizeof(v));
	}
	dcfs_hasher_update(&c->hasher, data_hash->b, DCFS_HASH_LEN);
	dcfs_hasher_final(&c->hasher, out);
}

/* Known content: *idx when earlier in this layer, else *id when in the catalog (*damaged when
 * one of its chunks is quarantined, so that this copy of the bytes must be kept to heal it). */
static int find_blob(dcfs_ingest *in, const dcfs_hash *h, size_t *idx, int64_t *id, bool *damaged,
		     dcfs_error *e)
{
	*idx = NONE;
	*id = 0;
	*damaged = false;
	if (dcfs_map_get(&in->blob_map, h->b, DCFS_HASH_LEN, idx))
		return 0;
	sqlite3_stmt *st = in->find_blob;
	sqlite3_reset(st);
	sqlite3_bind_blob(st, 1, h->b, DCFS_HASH_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*damaged = sqlite3_column_int(st, 1) != 0;
	}
	sqlite3_reset(st); /* see chunk_in_catalog() */
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dcfs_catalog_error(in->store->db, e, "catalog");
	return 0;
}

static int close_file(dcfs_ingest *in, dcfs_error *e)
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
	if (en->size == 0)
		return 0; /* empty files have no blob */
	bool holes = c->holes || c->next_off != en->size;
	dcfs_hash data_hash, key;
	if (c->small) {
		dcfs_hasher_final(&c->hasher, &data_hash);
		blob_key(in, &data_hash, en->size, holes, &key);
	} else {
		/* the chunk list (offsets, lengths, hashes) already holds the layout */
		dcfs_hasher_update(&c->hasher, "dcfs-chunked", 13);
		dcfs_hasher_update(&c->hasher, &en->size, sizeof(en->size));
		dcfs_hasher_final(&c->hasher, &key);
	}

	size_t idx;
	int64_t id;
	bool damaged;
	r = find_blob(in, &key, &idx, &id, &damaged, e);
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
			return oom(e);
		idx = in->nblobs++;
		in->blobs[idx] = (blob){.hash = key,
					.size = en->size,
					.first_extent = c->first_extent,
					.nextents = id > 0 && !damaged ? 0 : in->nextents - c->first_extent,
					.id = id,
					.heal = damaged};
		if (dcfs_map_put(&in->blob_map, key.b, DCFS_HASH_LEN, idx) < 0)
			return oom(e);
	}
	in->entries[eidx].blob = idx;
	return 0;
}

/* ---- entries --------------------------------------------------------------------------- */

static int find_entry(dcfs_ingest *in, const char *path, size_t *idx)
{
	return dcfs_map_get(&in->paths, path, strlen(path), idx) ? 1 : 0;
}

static int new_entry(dcfs_ingest *in, char *path, size_t *idx, dcfs_error *e)
{
	if (GROW(in->entries, in->nentries, in->entries_cap) < 0) {
		free(path);
		return oom(e);
	}
	*idx = in->nentries++;
	in->entries[*idx] = (entry){.path = path, .blob = NONE};
	if (dcfs_map_put(&in->paths, path, strlen(path), *idx) < 0)
		return oom(e);
	return 0;
}

/* Make sure every ancestor of `path` is a directory, creating missing ones (0755 root:root).
 * Errors name `who`, the source's entry that needs them. */
static int ensure_parents_of(dcfs_ingest *in, const char *path, const char *who, dcfs_error *e)
{
	if (!*path)
		return 0;
	_cleanup_free_ char *parent = dcfs_path_parent(path);
	if (!parent)
		return oom(e);
	size_t idx;
	if (find_entry(in, parent, &idx)) {
		entry *p = &in->entries[idx];
		if (p->type != DCFS_T_DIR)
			return dcfs_error_set(e, ENOTDIR, "%s '%s' is below %s '%s', which is not a directory",
					      in->what, who, p->type == DCFS_T_SYMLINK ? "symlink" : "entry",
					      p->path);
		p->has_children = true;
		return 0;
	}
	int r = ensure_parents_of(in, parent, who, e);
	if (r < 0)
		return r;
	r = new_entry(in, TAKE_PTR(parent), &idx, e);
	if (r < 0)
		return r;
	entry *p = &in->entries[idx];
	p->type = DCFS_T_DIR;
	p->mode = 0755;
	p->implicit = true;
	p->has_children = true;
	return 0;
}

/* Entry `idx` is about to be replaced: the hardlinks that name it keep its inode, as they would
 * on a disk. The first becomes the inode's primary entry; the others now name that one. */
static int promote_hardlinks(dcfs_ingest *in, size_t idx, dcfs_error *e)
{
	entry *old = &in->entries[idx];
	if (old->type == DCFS_T_DIR || old->type == DCFS_T_HARDLINK || old->type == DCFS_T_WHITEOUT)
		return 0;
	size_t primary = NONE;
	for (size_t i = 0; i < in->nentries; i++) {
		entry *h = &in->entries[i];
		if (h->type != DCFS_T_HARDLINK || !h->target || strcmp(h->target, old->path) != 0)
			continue;
		if (primary == NONE) {
			primary = i;
			free(h->target);
			h->target = NULL;
			if (old->target && !(h->target = strdup(old->target)))
				return oom(e);
			if (old->xattrs_len) {
				h->xattrs = malloc(old->xattrs_len);
				if (!h->xattrs)
					return oom(e);
				memcpy(h->xattrs, old->xattrs, old->xattrs_len);
				h->xattrs_len = old->xattrs_len;
			}
			h->type = old->type;
			h->rdev = old->rdev;
			h->blob = old->blob;
			h->size = old->size;
			continue;
		}
		char *t = strdup(in->entries[primary].path);
		if (!t)
			return oom(e);
		free(h->target);
		h->target = t;
	}
	return 0;
}

static int ensure_parents(dcfs_ingest *in, const char *path, dcfs_error *e)
{
	return ensure_parents_of(in, path, path, e);
}

static int check_hardlink(dcfs_ingest *in, const char *path, const char *target, char **norm,
			  entry **tgt, dcfs_error *e)
{
	if (!target || !*target || target[0] == '/')
		return dcfs_error_set(e, EPERM, "%s '%s': hardlink target '%s' escapes the root", in->what,
				      path, target ? target : "");
	int r = dcfs_path_normalize(target, norm);
	if (r == -EPERM)
		return dcfs_error_set(e, EPERM, "%s '%s': hardlink target '%s' escapes the root", in->what,
				      path, target);
	if (r < 0)
		return oom(e);
	size_t idx;
	if (!find_entry(in, *norm, &idx) || in->entries[idx].implicit)
		return dcfs_error_set(e, ENOENT, "%s '%s': hardlink target '%s' is not an earlier entry",
				      in->what, path, target);
	*tgt = &in->entries[idx];
	if ((*tgt)->type == DCFS_T_DIR || (*tgt)->type == DCFS_T_WHITEOUT)
		return dcfs_error_set(e, EPERM, "%s '%s': hardlink target '%s' is a directory", in->what,
				      path, target);
	if ((*tgt)->type == DCFS_T_HARDLINK) {
		/* Point at the first path of the group. */
		free(*norm);
		*norm = strdup((*tgt)->target);
		if (!*norm)
			return oom(e);
		find_entry(in, *norm, &idx);
		*tgt = &in->entries[idx];
	}
	return 0;
}

int dcfs_ingest_add(dcfs_ingest *in, const dcfs_entry_info *info, dcfs_error *e)
{
	int r = close_file(in, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = NULL;
	r = dcfs_path_normalize(info->path, &path);
	if (r == -EPERM)
		return dcfs_error_set(e, EPERM, "%s '%s' escapes the root", in->what, info->path);
	if (r < 0)
		return oom(e);
	if (!*path && info->type != DCFS_T_DIR)
		return dcfs_error_set(e, EINVAL, "%s '%s': the root must be a directory", in->what, info->path);
	if (strlen(path) > 4095)
		return dcfs_error_set(e, ENAMETOOLONG, "%s '%.64s...': path too long", in->what, path);

	_cleanup_free_ char *target = NULL;
	size_t link = NONE; /* an index: adding parents may move the entries array */
	if (info->type == DCFS_T_HARDLINK) {
		entry *t = NULL;
		r = check_hardlink(in, path, info->target, &target, &t, e);
		if (r < 0)
			return r;
		/* `tar cf x f f`, or a name re-linked to another name of its own inode: the entry
		 * already holds the file */
		if (!strcmp(target, path))
			return 0;
		link = (size_t)(t - in->entries);
	} else if (info->type == DCFS_T_SYMLINK) {
		target = strdup(info->target ? info->target : "");
		if (!target)
			return oom(e);
	}
	r = ensure_parents(in, path, e);
	if (r < 0)
		return r;

	size_t idx;
	if (find_entry(in, path, &idx)) {
		entry *old = &in->entries[idx];
		if (old->has_children && info->type != DCFS_T_DIR)
			return dcfs_error_set(e, EEXIST, "%s '%s' replaces a directory that has entries",
					      in->what, path);
		bool children = old->has_children, opaque = old->opaque;
		r = promote_hardlinks(in, idx, e);
		if (r < 0)
			return r;
		old = &in->entries[idx];
		entry_release(old);
		*old = (entry){.path = TAKE_PTR(path), .blob = NONE, .has_children = children, .opaque = opaque};
	} else {
		r = new_entry(in, TAKE_PTR(path), &idx, e);
		if (r < 0)
			return r;
	}
	entry *en = &in->entries[idx];
	en->type = info->type;
	en->mode = info->mode & 07777;
	en->uid = info->uid;
	en->gid = info->gid;
	en->mtime_ns = info->mtime_ns;
	en->rdev = (info->type == DCFS_T_CHAR || info->type == DCFS_T_BLOCK) ? info->rdev : 0;
	en->target = TAKE_PTR(target);
	if (info->xattrs_len) {
		en->xattrs = malloc(info->xattrs_len);
		if (!en->xattrs)
			return oom(e);
		memcpy(en->xattrs, info->xattrs, info->xattrs_len);
		en->xattrs_len = info->xattrs_len;
	}
	in->stats.entries++;
	if (link != NONE) {
		/* A hardlink shares its target's inode: same metadata and content. */
		const entry *t = &in->entries[link];
		en->mode = t->mode;
		en->uid = t->uid;
		en->gid = t->gid;
		en->mtime_ns = t->mtime_ns;
		en->size = t->size;
		return 0;
	}
	if (info->type != DCFS_T_FILE)
		return 0;
	en->size = info->size;
	in->stats.files++;
	in->stats.file_bytes += info->size;
	if (info->size <= PACK_SMALL && info->size > 0 &&
	    (in->pack_chunk == NONE || in->pack_len + info->size > DCFS_CHUNK_MAX)) {
		r = flush_pack(in, e);
		if (r == 0)
			r = new_chunkref(in, NULL, &in->pack_chunk, e);
		if (r < 0)
			return r;
		in->pack_first_extent = in->nextents;
	}
	open_file(in, idx, info->size);
	return 0;
}

int dcfs_ingest_set_opaque(dcfs_ingest *in, const char *dir, dcfs_error *e)
{
	int r = close_file(in, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = NULL;
	r = dcfs_path_normalize(dir, &path);
	if (r == -EPERM)
		return dcfs_error_set(e, EPERM, "%s '%s' escapes the root", in->what, dir);
	if (r < 0)
		return oom(e);
	size_t idx;
	if (!find_entry(in, path, &idx)) {
		/* The marker may come before its directory: create it implicitly. */
		r = ensure_parents(in, path, e);
		if (r < 0)
			return r;
		r = new_entry(in, TAKE_PTR(path), &idx, e);
		if (r < 0)
			return r;
		in->entries[idx].type = DCFS_T_DIR;
		in->entries[idx].mode = 0755;
		in->entries[idx].implicit = true;
	}
	if (in->entries[idx].type != DCFS_T_DIR)
		return dcfs_error_set(e, ENOTDIR, "%s '%s': opaque marker on a non-directory", in->what, dir);
	in->entries[idx].opaque = true;
	return 0;
}

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
static void layer_digest(dcfs_ingest *in, char out[8 + DCFS_HASH_HEX])
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

static int step_done(sqlite3 *db, sqlite3_stmt *st, dcfs_error *e)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return dcfs_catalog_error(db, e, "catalog");
	return 0;
}

static int insert_chunks(dcfs_ingest *in, dcfs_error *e)
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
		r = step_done(db, ins, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int chunk_id(dcfs_ingest *in, sqlite3_stmt *sel, size_t idx, int64_t *id, dcfs_error *e)
{
	chunkref *c = &in->chunks[idx];
	if (c->id == 0) {
		sqlite3_bind_blob(sel, 1, c->hash.b, DCFS_HASH_LEN, SQLITE_STATIC);
		int rc = sqlite3_step(sel);
		if (rc == SQLITE_ROW)
			c->id = sqlite3_column_int64(sel, 0);
		sqlite3_reset(sel);
		if (rc != SQLITE_ROW)
			return dcfs_error_set(e, EIO, "catalog: chunk of a new file is missing");
	}
	*id = c->id;
	return 0;
}

static int insert_blobs(dcfs_ingest *in, dcfs_error *e)
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
		r = dcfs_catalog_prepare(db, "SELECT id FROM blobs WHERE hash = ?1", &find, e);
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
			r = step_done(db, drop, e);
			if (r < 0)
				return r;
		} else {
			/* Another writer may have added the same content since we looked. */
			sqlite3_bind_blob(find, 1, b->hash.b, DCFS_HASH_LEN, SQLITE_STATIC);
			if (sqlite3_step(find) == SQLITE_ROW)
				b->id = sqlite3_column_int64(find, 0);
			sqlite3_reset(find);
			if (b->id > 0)
				continue;
			sqlite3_bind_blob(ins, 1, b->hash.b, DCFS_HASH_LEN, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 2, (int64_t)b->size);
			r = step_done(db, ins, e);
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
			r = step_done(db, ext, e);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int insert_layer(dcfs_ingest *in, const char *digest, const char *source, int64_t *layer_id,
			dcfs_error *e)
{
	sqlite3 *db = in->store->db;
	/* Blobs first, even when the layer exists: a blob to heal must be re-pointed either way
	 * (the others are found and skipped). */
	int r = insert_blobs(in, e);
	if (r < 0)
		return r;
	int64_t existing = 0;
	r = dcfs_catalog_int(db, "SELECT id FROM layers WHERE digest = ?1", digest, &existing, e);
	if (r < 0)
		return r;
	if (existing > 0) {
		*layer_id = existing;
		return 0;
	}
	uint64_t files = 0, size = 0;
	for (size_t i = 0; i < in->nentries; i++)
		if (in->entries[i].type == DCFS_T_FILE) {
			files++;
			size += in->entries[i].size;
		}
	_cleanup_stmt_ sqlite3_stmt *ins = NULL, *ent = NULL;
	r = dcfs_catalog_prepare(db,
				 "INSERT INTO layers(digest, source, created, entries, files, size)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
				 &ins, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(ins, 1, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 3, (int64_t)time(NULL));
	sqlite3_bind_int64(ins, 4, (int64_t)in->nentries);
	sqlite3_bind_int64(ins, 5, (int64_t)files);
	sqlite3_bind_int64(ins, 6, (int64_t)size);
	r = step_done(db, ins, e);
	if (r < 0)
		return r;
	*layer_id = sqlite3_last_insert_rowid(db);
	r = dcfs_catalog_prepare(db,
				 "INSERT INTO entries(layer_id, path, type, mode, uid, gid, mtime_ns, size,"
				 " target, rdev, opaque, xattrs, blob_id)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
				 &ent, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < in->nentries; i++) {
		entry *en = &in->entries[i];
		char type[2] = {en->type, 0};
		sqlite3_bind_int64(ent, 1, *layer_id);
		sqlite3_bind_text(ent, 2, en->path, -1, SQLITE_STATIC);
		sqlite3_bind_text(ent, 3, type, 1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ent, 4, en->mode);
		sqlite3_bind_int64(ent, 5, en->uid);
		sqlite3_bind_int64(ent, 6, en->gid);
		sqlite3_bind_int64(ent, 7, en->mtime_ns);
		sqlite3_bind_int64(ent, 8, (int64_t)en->size);
		if (en->target)
			sqlite3_bind_text(ent, 9, en->target, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(ent, 9);
		sqlite3_bind_int64(ent, 10, (int64_t)en->rdev);
		sqlite3_bind_int(ent, 11, en->opaque);
		if (en->xattrs_len)
			sqlite3_bind_blob(ent, 12, en->xattrs, (int)en->xattrs_len, SQLITE_STATIC);
		else
			sqlite3_bind_null(ent, 12);
		if (en->blob != NONE)
			sqlite3_bind_int64(ent, 13, in->blobs[en->blob].id);
		else
			sqlite3_bind_null(ent, 13);
		r = step_done(db, ent, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int insert_image(dcfs_ingest *in, const char *ref, const char *kind, const char *config,
			const char *layer_digest_hex, int64_t layer_id, dcfs_error *e)
{
	sqlite3 *db = in->store->db;
	_cleanup_stmt_ sqlite3_stmt *del = NULL, *ins = NULL, *link = NULL;
	int r = dcfs_catalog_prepare(db, "DELETE FROM images WHERE ref = ?1", &del, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(del, 1, ref, -1, SQLITE_STATIC);
	r = step_done(db, del, e);
	if (r < 0)
		return r;
	/* The image digest covers its config and its layers. */
	dcfs_hasher h;
	dcfs_hasher_init(&h);
	dcfs_hasher_update(&h, config, strlen(config) + 1);
	dcfs_hasher_update(&h, layer_digest_hex, strlen(layer_digest_hex));
	dcfs_hash d;
	dcfs_hasher_final(&h, &d);
	dcfs_hasher_free(&h);
	char digest[8 + DCFS_HASH_HEX] = "sha256:";
	dcfs_hash_to_hex(&d, digest + 7);

	r = dcfs_catalog_prepare(db,
				 "INSERT INTO images(ref, kind, digest, config, created, last_used)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
				 &ins, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(ins, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 3, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, config, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 5, (int64_t)time(NULL));
	r = step_done(db, ins, e);
	if (r < 0)
		return r;
	int64_t image_id = sqlite3_last_insert_rowid(db);
	r = dcfs_catalog_prepare(db, "INSERT INTO image_layers(image_id, pos, layer_id) VALUES (?1, 0, ?2)",
				 &link, e);
	if (r < 0)
		return r;
	sqlite3_bind_int64(link, 1, image_id);
	sqlite3_bind_int64(link, 2, layer_id);
	r = step_done(db, link, e);
	if (r < 0)
		return r;
	return dcfs_image_index_build(db, image_id, e);
}

int dcfs_ingest_commit(dcfs_ingest *in, const char *ref, const char *kind, const char *config_json,
		       const char *source, const dcfs_ingest_stats **stats, dcfs_error *e)
{
	int r = close_file(in, e);
	if (r == 0)
		r = flush_pack(in, e);
	/* Every layer has a root directory: the parents of a top-level name include it. */
	if (r == 0 && !dcfs_map_get(&in->paths, "", 0, &(size_t){0}))
		r = ensure_parents(in, "x", e);
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
	char digest[8 + DCFS_HASH_HEX];
	layer_digest(in, digest);

	sqlite3 *db = in->store->db;
	r = dcfs_catalog_exec(db, "BEGIN IMMEDIATE", e);
	if (r < 0)
		return r;
	int64_t layer_id = 0;
	r = insert_chunks(in, e);
	if (r >= 0)
		r = insert_layer(in, digest, source, &layer_id, e);
	if (r >= 0)
		r = insert_image(in, ref, kind, config_json, digest, layer_id, e);
	if (r >= 0)
		r = dcfs_catalog_exec(db, "COMMIT", e);
	if (r < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	if (stats)
		*stats = &in->stats;
	return 0;
}
