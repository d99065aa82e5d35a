/* Staging new chunks: compression on worker threads, then one durable publish.
 *
 * dcfs_chunk_writer_put() copies a chunk and queues it; workers compress it into the writer's
 * staging folder. dcfs_chunk_writer_publish() waits for the queue, syncs the staged files,
 * renames them into chunks/ and syncs again, so that a catalog transaction committed after it
 * never points at a chunk that a crash could lose. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

#include "error.h"
#include "hash.h"
#include "store.h"

typedef struct dcfs_chunk_writer dcfs_chunk_writer;

typedef struct dcfs_staged_chunk {
	dcfs_hash hash;
	uint32_t plain_size;
	uint32_t stored_size;
} dcfs_staged_chunk;

int dcfs_chunk_writer_new(dcfs_store *s, int threads, dcfs_chunk_writer **out, dcfs_error *e);

/* The zstd level of the chunks queued from now on (default DCFS_CHUNK_LEVEL). */
void dcfs_chunk_writer_set_level(dcfs_chunk_writer *w, int level);

/* Queue a chunk whose hash the caller computed. Returns 0 or -errno (a worker's earlier failure). */
int dcfs_chunk_writer_put(dcfs_chunk_writer *w, const dcfs_hash *h, const void *data, size_t len,
			  dcfs_error *e);

/* Wait for all queued chunks, then make them durable in chunks/. */
int dcfs_chunk_writer_publish(dcfs_chunk_writer *w, dcfs_error *e);

/* The chunks staged so far (valid after publish). */
const dcfs_staged_chunk *dcfs_chunk_writer_chunks(dcfs_chunk_writer *w, size_t *n);
uint64_t dcfs_chunk_writer_stored_bytes(dcfs_chunk_writer *w);

void dcfs_chunk_writer_free(dcfs_chunk_writer *w);
DEFINE_TRIVIAL_CLEANUP(dcfs_chunk_writer *, dcfs_chunk_writer_free)
