/* A hash map from byte strings to indexes, for the layer writer's path and digest lookups. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct dcfs_map_slot {
	char *key; /* owned copy, NULL when empty */
	size_t klen;
	size_t value;
	size_t hash;
} dcfs_map_slot;

typedef struct dcfs_map {
	dcfs_map_slot *slots;
	size_t cap, count;
} dcfs_map;

/* Look up `key`; returns true and sets *value when present. */
bool dcfs_map_get(const dcfs_map *m, const void *key, size_t klen, size_t *value);
/* Insert or replace; returns 0 or -ENOMEM. */
int dcfs_map_put(dcfs_map *m, const void *key, size_t klen, size_t value);
void dcfs_map_free(dcfs_map *m);
