/* A small intrusive hash table with removal, for the workspace view's inodes, watches and
 * accounting. Chained buckets, doubled when the load passes one; the caller supplies the hash
 * and the equality test, and embeds a ws_link in its records. Not thread-safe. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "workspace_internal.h"

uint64_t ws_hash(const void *data, size_t len, uint64_t seed)
{
	/* FNV-1a, then a final mix so that sequential inode numbers spread over buckets */
	const unsigned char *p = data;
	uint64_t h = 1469598103934665603ULL ^ seed;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

ws_link *ws_table_find(const ws_table *t, uint64_t hash, ws_eq_fn eq, const void *key)
{
	if (!t->mask)
		return NULL;
	for (ws_link *l = t->buckets[hash & t->mask]; l; l = l->next)
		if (l->hash == hash && eq(l, key))
			return l;
	return NULL;
}

static int grow(ws_table *t)
{
	size_t n = t->mask ? (t->mask + 1) * 2 : 64;
	ws_link **b = calloc(n, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; t->mask && i <= t->mask; i++) {
		ws_link *l = t->buckets[i];
		while (l) {
			ws_link *next = l->next;
			l->next = b[l->hash & (n - 1)];
			b[l->hash & (n - 1)] = l;
			l = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->mask = n - 1;
	return 0;
}

int ws_table_insert(ws_table *t, ws_link *l, uint64_t hash)
{
	if (t->count >= t->mask) {
		int r = grow(t);
		if (r < 0 && !t->mask)
			return r;
		/* a failed growth leaves longer chains, which still work */
	}
	l->hash = hash;
	l->next = t->buckets[hash & t->mask];
	t->buckets[hash & t->mask] = l;
	t->count++;
	return 0;
}

void ws_table_remove(ws_table *t, ws_link *l)
{
	if (!t->mask)
		return;
	for (ws_link **pp = &t->buckets[l->hash & t->mask]; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			l->next = NULL;
			assert(t->count > 0);
			t->count--;
			return;
		}
}

void ws_table_each(ws_table *t, void (*fn)(ws_link *l, void *arg), void *arg)
{
	for (size_t i = 0; t->mask && i <= t->mask; i++) {
		ws_link *l = t->buckets[i];
		while (l) {
			ws_link *next = l->next;
			fn(l, arg);
			l = next;
		}
	}
}

void ws_table_free(ws_table *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->mask = t->count = 0;
}
