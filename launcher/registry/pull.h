/* `dcfs pull`: an image from an OCI registry into the store.
 *
 * The manifest is resolved (an index or manifest list to its linux/amd64 entry), the config
 * fetched and checked, and each layer streamed through libarchive into the layer builder while
 * its digest is checked; a layer whose blob was pulled before (its `source` is
 * "blob:sha256:...") is not downloaded again. The image is recorded only when every layer is
 * in; a failure leaves no image (layers already committed stay, reclaimable by prune). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "layer_writer.h"
#include "store.h"

typedef enum dcfs_pull_event_kind {
	DCFS_PULL_MANIFEST, /* resolved: digest, count */
	DCFS_PULL_PROGRESS, /* a layer downloading (every 200 ms): index, digest, bytes, size,
			       seconds */
	DCFS_PULL_LAYER,    /* one layer done and its digest verified: index, digest, cached,
			       bytes, stats, seconds */
} dcfs_pull_event_kind;

typedef struct dcfs_pull_event {
	dcfs_pull_event_kind kind;
	const char *digest;
	size_t index, count;
	bool cached;
	uint64_t bytes; /* downloaded */
	uint64_t size;  /* the layer blob's size (the manifest's), 0 when unknown */
	const dcfs_layer_writer_stats *stats; /* NULL for a cached layer */
	double seconds;
} dcfs_pull_event;

typedef void (*dcfs_pull_progress_fn)(const dcfs_pull_event *ev, void *opaque);

typedef struct dcfs_pull_opts {
	bool insecure; /* plain HTTP to any registry */
	dcfs_pull_progress_fn progress;
	void *opaque;
} dcfs_pull_opts;

typedef struct dcfs_pull_result {
	char *name;            /* the store's name for the image (dcfs_ref_name) */
	char manifest[8 + 64]; /* digest of the image manifest pulled */
	size_t layers, cached;
	uint64_t bytes; /* downloaded layer bytes */
} dcfs_pull_result;

/* Pull `ref_text`; errors name the reference. */
int dcfs_pull(dcfs_store *s, const char *ref_text, const dcfs_pull_opts *o, dcfs_pull_result *res,
	      dcfs_error *e);
void dcfs_pull_result_free(dcfs_pull_result *res);
