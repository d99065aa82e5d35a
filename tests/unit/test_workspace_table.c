/* The workspace view's intrusive hash table (ws_table_*, ws_hash): its inode, watch and
 * accounting tables. Insertion past several growths, lookups with equal hashes, removal (also
 * of absent links and from inside ws_table_each), and the hash's spread of sequential keys. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "workspace_internal.h"

typedef struct item {
	ws_link link;
	uint64_t key;
	bool seen;
} item;

static bool eq_key(const ws_link *l, const void *key)
{
	return ws_container_of(l, item, link)->key == *(const uint64_t *)key;
}

static uint64_t hash_of(uint64_t key)
{
	return ws_hash(&key, sizeof(key), 0);
}

static item *find(const ws_table *t, uint64_t key)
{
	ws_link *l = ws_table_find(t, hash_of(key), eq_key, &key);
	return l ? ws_container_of(l, item, link) : NULL;
}

static void count_each(ws_link *l, void *arg)
{
	ws_container_of(l, item, link)->seen = true;
	(*(size_t *)arg)++;
}

static void remove_odd(ws_link *l, void *arg)
{
	if (ws_container_of(l, item, link)->key & 1)
		ws_table_remove(arg, l);
}

static void empty(void)
{
	ws_table t = {0};
	uint64_t k = 1;
	CHECK(ws_table_find(&t, hash_of(k), eq_key, &k) == NULL);
	item stray = {.key = 1};
	ws_table_remove(&t, &stray.link); /* nothing to remove from: no crash */
	size_t n = 0;
	ws_table_each(&t, count_each, &n);
	CHECK_INT(n, 0);
	ws_table_free(&t);
	CHECK(t.buckets == NULL && t.mask == 0 && t.count == 0);
}

static void many(void)
{
	enum { N = 5000 };
	ws_table t = {0};
	item *items = calloc(N, sizeof(*items));
	if (!items)
		abort();
	int bad = 0;
	for (size_t i = 0; i < N; i++) {
		items[i].key = i * 7;
		bad += ws_table_insert(&t, &items[i].link, hash_of(items[i].key)) != 0;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(t.count, N);
	/* grown by doubling from 64 buckets, kept at a load of at most one */
	CHECK(t.mask + 1 >= N && ((t.mask + 1) & t.mask) == 0);
	bad = 0;
	for (size_t i = 0; i < N; i++)
		bad += find(&t, i * 7) != &items[i];
	CHECK_INT(bad, 0);
	CHECK(find(&t, 3) == NULL && find(&t, (uint64_t)N * 7) == NULL);
	size_t n = 0;
	ws_table_each(&t, count_each, &n);
	CHECK_INT(n, N);
	bad = 0;
	for (size_t i = 0; i < N; i++)
		bad += !items[i].seen;
	CHECK_INT(bad, 0);

	/* removal from inside ws_table_each (the link given may go) */
	ws_table_each(&t, remove_odd, &t);
	size_t odd = 0;
	bad = 0;
	for (size_t i = 0; i < N; i++) {
		odd += items[i].key & 1;
		bad += (find(&t, items[i].key) != NULL) != !(items[i].key & 1);
	}
	CHECK_INT(bad, 0);
	CHECK_INT(t.count, N - odd);
	/* removing a link twice, or one never inserted, changes nothing */
	item stray = {.key = 1};
	stray.link.hash = hash_of(1);
	ws_table_remove(&t, &stray.link);
	ws_table_remove(&t, &items[1].link);
	CHECK_INT(t.count, N - odd);
	/* removed links can go in again */
	ws_table_insert(&t, &items[1].link, hash_of(items[1].key));
	CHECK(find(&t, items[1].key) == &items[1]);
	CHECK_INT(t.count, N - odd + 1);
	ws_table_free(&t);
	CHECK(t.buckets == NULL && t.mask == 0 && t.count == 0);
	free(items);
}

/* Links with one hash (a collision, or keys the caller hashes alike) are told apart by `eq`,
 * and the duplicates of one key are all kept: the newest is found first. */
static void same_hash(void)
{
	ws_table t = {0};
	item a = {.key = 1}, b = {.key = 2}, c = {.key = 1};
	ws_table_insert(&t, &a.link, 42);
	ws_table_insert(&t, &b.link, 42);
	uint64_t k1 = 1, k2 = 2, k3 = 3;
	CHECK(ws_table_find(&t, 42, eq_key, &k1) == &a.link);
	CHECK(ws_table_find(&t, 42, eq_key, &k2) == &b.link);
	CHECK(ws_table_find(&t, 42, eq_key, &k3) == NULL);
	/* the same key under another hash is not found */
	CHECK(ws_table_find(&t, 43, eq_key, &k1) == NULL);
	ws_table_insert(&t, &c.link, 42);
	CHECK_INT(t.count, 3);
	CHECK(ws_table_find(&t, 42, eq_key, &k1) == &c.link);
	ws_table_remove(&t, &c.link);
	CHECK(ws_table_find(&t, 42, eq_key, &k1) == &a.link);
	ws_table_remove(&t, &a.link);
	CHECK(ws_table_find(&t, 42, eq_key, &k1) == NULL);
	CHECK(ws_table_find(&t, 42, eq_key, &k2) == &b.link);
	CHECK_INT(t.count, 1);
	ws_table_free(&t);
}

/* ws_hash: the seed matters, the bytes matter, and sequential inode numbers spread over the
 * low bits the buckets use. */
static void hashing(void)
{
	uint64_t k = 12345;
	CHECK(ws_hash(&k, sizeof(k), 0) == ws_hash(&k, sizeof(k), 0));
	CHECK(ws_hash(&k, sizeof(k), 0) != ws_hash(&k, sizeof(k), 1));
	CHECK(ws_hash("ab", 2, 0) != ws_hash("ba", 2, 0));
	CHECK(ws_hash("", 0, 0) != ws_hash("", 0, 7));
	enum { BUCKETS = 256, KEYS = 4096 };
	unsigned hits[BUCKETS] = {0}, most = 0;
	for (uint64_t i = 0; i < KEYS; i++)
		hits[hash_of(1000000 + i) & (BUCKETS - 1)]++;
	for (int i = 0; i < BUCKETS; i++)
		most = hits[i] > most ? hits[i] : most;
	/* 16 per bucket on average; a poor spread would pile them up */
	if (!CHECK(most < 48))
		tap_diag("  fullest bucket: %u", most);
}

int main(void)
{
	empty();
	many();
	same_hash();
	hashing();
	return tap_done();
}
