/* What `dcfs push` remembers of the layer blobs it made (the catalog's `pushed_blobs`): for a
 * layer and a compression, the blob's digest, size and diff_id, and the registries and
 * repositories it went to. Writing a layer is deterministic, so a remembered blob is the one a
 * new write would make: a push can ask the registry for it (HEAD) without writing it, and mount
 * it from another repository of the same registry instead of uploading it. */
#pragma once

#include <stdint.h>

#include "error.h"
#include "push.h"
#include "store.h"

typedef struct push_memo {
	char digest[8 + 64], diff_id[8 + 64];
	uint64_t size;
	/* a repository of the same registry that has it ("" when only other registries do) */
	char from[256];
	bool here; /* `from` is the repository being pushed to */
} push_memo;

/* 1 with *out filled when the layer was pushed before (to this registry's repositories
 * preferably), 0 when never. */
int push_memo_find(dcfs_store *s, int64_t layer_id, dcfs_push_compression c, const char *registry,
		   const char *repository, push_memo *out, dcfs_error *e);

/* Remember that `registry`/`repository` has the blob of layer `layer_id`. */
int push_memo_add(dcfs_store *s, int64_t layer_id, dcfs_push_compression c, const char *digest,
		  const char *diff_id, uint64_t size, const char *registry, const char *repository,
		  dcfs_error *e);
