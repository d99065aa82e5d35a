/* A small pool of compression threads behind a bounded queue (see chunk_writer.h). */
#include "chunk_writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "chunk.h"
#include "cleanup.h"

#define MAX_THREADS 8

typedef struct job {
	size_t index; /* into w->chunks */
	dcfs_hash hash;
	size_t len;
	unsigned char *data;
} job;

struct dcfs_chunk_writer {
	dcfs_store *store;
	int level; /* zstd's */
	pthread_t threads[MAX_THREADS];
	int nthreads;

	pthread_mutex_t lock;
	pthread_cond_t changed;
	job *queue; /* ring of `cap` jobs */
	size_t cap, head, count, busy;
	bool stopping;

	/* Recycled job buffers (DCFS_CHUNK_MAX bytes each): a fresh 1 MiB allocation per chunk is
	 * an mmap and 256 page faults. */
	unsigned char **spare;
	size_t nspare, spare_cap;

	dcfs_staged_chunk *chunks;
	size_t nchunks, chunks_cap;
	uint64_t stored_bytes;
	dcfs_error err; /* first worker failure */
};

static void staged_name(const dcfs_hash *h, char out[DCFS_HASH_HEX])
{
	dcfs_hash_to_hex(h, out);
}

static void *worker(void *arg)
{
	dcfs_chunk_writer *w = arg;
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	size_t out_cap = ZSTD_compressBound(DCFS_CHUNK_MAX);
	void *out = malloc(out_cap);
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->count == 0 && !w->stopping)
			pthread_cond_wait(&w->changed, &w->lock);
		if (w->count == 0)
			break;
		job j = w->queue[w->head];
		w->head = (w->head + 1) % w->cap;
		w->count--;
		w->busy++;
		int level = w->level;
		pthread_cond_broadcast(&w->changed);
		pthread_mutex_unlock(&w->lock);

		dcfs_error err = {0};
		size_t stored = 0;
		char name[DCFS_HASH_HEX];
		staged_name(&j.hash, name);
		int r = (!cctx || !out) ? dcfs_error_set(&err, ENOMEM, "out of memory")
					: dcfs_chunk_write(w->store->tmp_fd, name, cctx, level, j.data,
							   j.len, out, out_cap, &stored, &err);
		pthread_mutex_lock(&w->lock);
		if (w->nspare < w->spare_cap)
			w->spare[w->nspare++] = j.data;
		else
			free(j.data);
		w->busy--;
		if (r < 0 && w->err.code == 0) {
			w->err = err;
		} else {
			dcfs_error_clear(&err);
			w->chunks[j.index].stored_size = (uint32_t)stored;
			w->stored_bytes += stored;
		}
		pthread_cond_broadcast(&w->changed);
	}
	pthread_mutex_unlock(&w->lock);
	ZSTD_freeCCtx(cctx);
	free(out);
	return NULL;
}

int dcfs_chunk_writer_new(dcfs_store *s, int threads, dcfs_chunk_writer **out, dcfs_error *e)
{
	if (threads < 1)
		threads = 1;
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	dcfs_chunk_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	w->store = s;
	w->level = DCFS_CHUNK_LEVEL;
	w->cap = (size_t)threads * 2;
	w->queue = calloc(w->cap, sizeof(job));
	w->spare_cap = w->cap + (size_t)threads + 1;
	w->spare = calloc(w->spare_cap, sizeof(*w->spare));
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->changed, NULL);
	if (!w->queue || !w->spare) {
		dcfs_chunk_writer_free(w);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&w->threads[i], NULL, worker, w) != 0) {
			dcfs_chunk_writer_free(w);
			return dcfs_error_set(e, EAGAIN, "cannot start a compression thread");
		}
		w->nthreads++;
	}
	*out = w;
	return 0;
}

/* Called with the lock held. */
static int take_error(dcfs_chunk_writer *w, dcfs_error *e)
{
	if (w->err.code == 0)
		return 0;
	int r = dcfs_error_set(e, w->err.code, "%s", w->err.msg ? w->err.msg : "chunk write failed");
	return r;
}

void dcfs_chunk_writer_set_level(dcfs_chunk_writer *w, int level)
{
	pthread_mutex_lock(&w->lock);
	w->level = level;
	pthread_mutex_unlock(&w->lock);
}

int dcfs_chunk_writer_put(dcfs_chunk_writer *w, const dcfs_hash *h, const void *data, size_t len,
			  dcfs_error *e)
{
	pthread_mutex_lock(&w->lock);
	unsigned char *copy = w->nspare ? w->spare[--w->nspare] : NULL;
	pthread_mutex_unlock(&w->lock);
	if (!copy)
		copy = malloc(DCFS_CHUNK_MAX);
	if (!copy)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	memcpy(copy, data, len);

	pthread_mutex_lock(&w->lock);
	int r = take_error(w, e);
	if (r == 0 && w->nchunks == w->chunks_cap) {
		size_t cap = w->chunks_cap ? w->chunks_cap * 2 : 256;
		/* Workers index into `chunks` only while holding the lock, so growing it here is safe. */
		dcfs_staged_chunk *n = realloc(w->chunks, cap * sizeof(*n));
		if (!n)
			r = dcfs_error_set(e, ENOMEM, "out of memory");
		else
			w->chunks = n, w->chunks_cap = cap;
	}
	if (r < 0) {
		pthread_mutex_unlock(&w->lock);
		free(copy);
		return r;
	}
	size_t idx = w->nchunks++;
	w->chunks[idx] = (dcfs_staged_chunk){.hash = *h, .plain_size = (uint32_t)len};
	while (w->count == w->cap)
		pthread_cond_wait(&w->changed, &w->lock);
	w->queue[(w->head + w->count) % w->cap] = (job){.index = idx, .hash = *h, .len = len, .data = copy};
	w->count++;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

static int wait_idle(dcfs_chunk_writer *w, dcfs_error *e)
{
	pthread_mutex_lock(&w->lock);
	while (w->count > 0 || w->busy > 0)
		pthread_cond_wait(&w->changed, &w->lock);
	int r = take_error(w, e);
	pthread_mutex_unlock(&w->lock);
	return r;
}

int dcfs_chunk_writer_publish(dcfs_chunk_writer *w, dcfs_error *e)
{
	int r = wait_idle(w, e);
	if (r < 0)
		return r;
	if (w->nchunks == 0)
		return 0;
	if (syncfs(w->store->tmp_fd) < 0)
		return dcfs_error_set(e, errno, "cannot sync '%s': %m", w->store->tmp_path);
	for (size_t i = 0; i < w->nchunks; i++) {
		char from[DCFS_HASH_HEX], to[3 + DCFS_HASH_HEX];
		staged_name(&w->chunks[i].hash, from);
		dcfs_store_chunk_name(&w->chunks[i].hash, to);
		if (renameat(w->store->tmp_fd, from, w->store->chunks_fd, to) < 0)
			return dcfs_error_set(e, errno, "cannot move chunk %s into the store: %m", from);
	}
	if (syncfs(w->store->chunks_fd) < 0)
		return dcfs_error_set(e, errno, "cannot sync '%s/chunks': %m", w->store->root);
	return 0;
}

const dcfs_staged_chunk *dcfs_chunk_writer_chunks(dcfs_chunk_writer *w, size_t *n)
{
	*n = w->nchunks;
	return w->chunks;
}

uint64_t dcfs_chunk_writer_stored_bytes(dcfs_chunk_writer *w)
{
	return w->stored_bytes;
}

void dcfs_chunk_writer_free(dcfs_chunk_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	for (size_t i = 0; i < w->count; i++)
		free(w->queue[(w->head + i) % w->cap].data);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->changed);
	dcfs_error_clear(&w->err);
	for (size_t i = 0; i < w->nspare; i++)
		free(w->spare[i]);
	free(w->spare);
	free(w->queue);
	free(w->chunks);
	free(w);
}
