/* Shared by push.c (upload, config, manifest) and push_layer.c (layer tar streams). Not an API. */
#pragma once

#include <stdint.h>

#include "push.h"

/* A layer written to a temporary file: its compressed digest and size, and its diff_id. */
typedef struct push_file {
	int fd; /* positioned anywhere; read with pread */
	uint64_t size;
	char digest[8 + 64];
	char diff_id[8 + 64];
} push_file;

/* Write layer `layer_id` as a compressed tar stream into an unlinked file in the store's
 * staging folder. */
int push_layer_write(dcfs_store *s, int64_t layer_id, dcfs_push_compression c, push_file *out,
		     dcfs_error *e);
