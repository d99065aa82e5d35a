/* Open-addressing hash map with linear probing (see map.h). Keys are copied; there is no delete,
 * which the layer writer never needs. */
#include "map.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t hash_bytes(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

static dcfs_map_slot *find(const dcfs_map *m, const void *key, size_t klen, size_t h)
{
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		dcfs_map_slot *s = &m->slots[i];
		if (!s->key || (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0))
			return s;
	}
}

bool dcfs_map_get(const dcfs_map *m, const void *key, size_t klen, size_t *value)
{
	if (m->cap == 0)
		return false;
	dcfs_map_slot *s = find(m, key, klen, hash_bytes(key, klen));
	if (!s->key)
		return false;
	*value = s->value;
	return true;
}

static int grow(dcfs_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	dcfs_map_slot *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	dcfs_map old = *m;
	m->slots = slots;
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*find(m, old.slots[i].key, old.slots[i].klen, old.slots[i].hash) = old.slots[i];
	free(old.slots);
	return 0;
}

int dcfs_map_put(dcfs_map *m, const void *key, size_t klen, size_t value)
{
	if ((m->count + 1) * 4 > m->cap * 3 && grow(m) < 0)
		return -ENOMEM;
	size_t h = hash_bytes(key, klen);
	dcfs_map_slot *s = find(m, key, klen, h);
	if (!s->key) {
		s->key = malloc(klen ? klen : 1);
		if (!s->key)
			return -ENOMEM;
		memcpy(s->key, key, klen);
		s->klen = klen;
		s->hash = h;
		m->count++;
	}
	s->value = value;
	return 0;
}

void dcfs_map_free(dcfs_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
}
