/* The decompressed-chunk cache (see chunk_cache.h): a hash map from chunk hash to an entry on
 * an LRU list, guarded by one mutex that is never held while a chunk is read or decompressed.
 * Entries in use are pinned by a reference count and evicted only when released. */
#include "chunk_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "chunk.h"

struct dcfs_cached_chunk {
	dcfs_hash hash;
	unsigned char *data;
	size_t len;
	unsigned refs;
	struct dcfs_cached_chunk *prev, *next; /* LRU list, most recent first */
};

struct dcfs_chunk_cache {
	int chunks_fd;
	size_t max;
	pthread_mutex_t lock;
	dcfs_cached_chunk **slots; /* open addressing by hash prefix */
	size_t nslots, count;
	dcfs_cached_chunk *head, *tail;
	void (*bad)(const dcfs_hash *h, const char *why, void *u);
	void *u;
};

static size_t slot_of(const dcfs_chunk_cache *c, const dcfs_hash *h)
{
	size_t v;
	memcpy(&v, h->b, sizeof(v));
	return v & (c->nslots - 1);
}

dcfs_chunk_cache *dcfs_chunk_cache_new(int chunks_fd, size_t max_chunks,
				       void (*bad)(const dcfs_hash *h, const char *why, void *u), void *u)
{
	dcfs_chunk_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->chunks_fd = chunks_fd;
	c->max = max_chunks ? max_chunks : 1;
	c->nslots = 16;
	while (c->nslots < c->max * 4)
		c->nslots *= 2;
	c->slots = calloc(c->nslots, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->bad = bad;
	c->u = u;
	return c;
}

static void unlink_lru(dcfs_chunk_cache *c, dcfs_cached_chunk *cc)
{
	if (cc->prev)
		cc->prev->next = cc->next;
	else
		c->head = cc->next;
	if (cc->next)
		cc->next->prev = cc->prev;
	else
		c->tail = cc->prev;
	cc->prev = cc->next = NULL;
}

static void push_front(dcfs_chunk_cache *c, dcfs_cached_chunk *cc)
{
	cc->next = c->head;
	cc->prev = NULL;
	if (c->head)
		c->head->prev = cc;
	c->head = cc;
	if (!c->tail)
		c->tail = cc;
}

static dcfs_cached_chunk **find_slot(dcfs_chunk_cache *c, const dcfs_hash *h)
{
	for (size_t i = slot_of(c, h);; i = (i + 1) & (c->nslots - 1))
		if (!c->slots[i] || memcmp(c->slots[i]->hash.b, h->b, DCFS_HASH_LEN) == 0)
			return &c->slots[i];
}

/* Remove from the map by re-inserting the rest of its probe run (linear probing). */
static void map_remove(dcfs_chunk_cache *c, dcfs_cached_chunk *cc)
{
	dcfs_cached_chunk **s = find_slot(c, &cc->hash);
	if (*s != cc)
		return;
	*s = NULL;
	size_t i = (size_t)(s - c->slots);
	for (i = (i + 1) & (c->nslots - 1); c->slots[i]; i = (i + 1) & (c->nslots - 1)) {
		dcfs_cached_chunk *moved = c->slots[i];
		c->slots[i] = NULL;
		*find_slot(c, &moved->hash) = moved;
	}
	c->count--;
}

static void free_chunk(dcfs_cached_chunk *cc)
{
	free(cc->data);
	free(cc);
}

/* Evict unpinned entries from the tail until there is room. Called with the lock held. */
static void evict(dcfs_chunk_cache *c)
{
	dcfs_cached_chunk *cc = c->tail;
	while (c->count >= c->max && cc) {
		dcfs_cached_chunk *prev = cc->prev;
		if (cc->refs == 0) {
			unlink_lru(c, cc);
			map_remove(c, cc);
			free_chunk(cc);
		}
		cc = prev;
	}
}

static int load(dcfs_chunk_cache *c, const dcfs_hash *h, dcfs_cached_chunk **out)
{
	dcfs_cached_chunk *cc = calloc(1, sizeof(*cc));
	unsigned char *buf = malloc(DCFS_CHUNK_MAX);
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	if (!cc || !buf || !dctx) {
		free(cc);
		free(buf);
		ZSTD_freeDCtx(dctx);
		return -ENOMEM;
	}
	dcfs_error err = {0};
	ssize_t n = dcfs_chunk_read(c->chunks_fd, h, dctx, buf, NULL, &err);
	ZSTD_freeDCtx(dctx);
	if (n < 0) {
		if (n == -EIO && c->bad)
			c->bad(h, err.msg, c->u);
		dcfs_error_clear(&err);
		free(cc);
		free(buf);
		return n == -ENOENT ? -EIO : (int)n;
	}
	cc->hash = *h;
	cc->len = (size_t)n;
	cc->data = realloc(buf, (size_t)n ? (size_t)n : 1);
	if (!cc->data)
		cc->data = buf;
	*out = cc;
	return 0;
}

int dcfs_chunk_cache_get(dcfs_chunk_cache *c, const dcfs_hash *h, dcfs_cached_chunk **out,
			 const unsigned char **data, size_t *len)
{
	pthread_mutex_lock(&c->lock);
	dcfs_cached_chunk *cc = *find_slot(c, h);
	if (cc) {
		cc->refs++;
		unlink_lru(c, cc);
		push_front(c, cc);
		pthread_mutex_unlock(&c->lock);
	} else {
		pthread_mutex_unlock(&c->lock);
		int r = load(c, h, &cc);
		if (r < 0)
			return r;
		pthread_mutex_lock(&c->lock);
		dcfs_cached_chunk **s = find_slot(c, h);
		if (*s) {
			/* another thread loaded it meanwhile: use theirs */
			free_chunk(cc);
			cc = *s;
			cc->refs++;
			unlink_lru(c, cc);
		} else {
			evict(c);
			s = find_slot(c, h);
			*s = cc;
			c->count++;
			cc->refs = 1;
		}
		push_front(c, cc);
		pthread_mutex_unlock(&c->lock);
	}
	*out = cc;
	*data = cc->data;
	*len = cc->len;
	return 0;
}

void dcfs_chunk_cache_release(dcfs_chunk_cache *c, dcfs_cached_chunk *cc)
{
	pthread_mutex_lock(&c->lock);
	cc->refs--;
	if (c->count > c->max)
		evict(c);
	pthread_mutex_unlock(&c->lock);
}

void dcfs_chunk_cache_free(dcfs_chunk_cache *c)
{
	if (!c)
		return;
	for (dcfs_cached_chunk *cc = c->head, *next; cc; cc = next) {
		next = cc->next;
		free_chunk(cc);
	}
	pthread_mutex_destroy(&c->lock);
	free(c->slots);
	free(c);
}
