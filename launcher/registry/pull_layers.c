/* Pulling an image's layers (see pull_internal.h). Up to PULL_WORKERS layers download at once,
 * each on a thread with its own registry client (a curl handle is not shared between threads)
 * and its own store connection (a SQLite connection per thread, as separate `dcfs import`
 * processes have), each streamed through libarchive into its own layer builder and committed
 * as a layer by itself (the stream import receives, hashes and inflates a layer on a thread of
 * its own while this one parses and ingests it: fs/layer/import_stream_pipe.c). A layer whose blob
 * was pulled before is found by its `source` and not downloaded. The first failure stops the
 * other downloads. */
#include "pull_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image_record.h"
#include "import.h"

typedef struct shared {
	puller *p;
	const cJSON *layers;
	size_t n, next;
	int64_t *ids;
	pthread_mutex_t lock; /* next, the result's figures, progress, err */
	atomic_bool failed;
	dcfs_error err; /* the first failure */
} shared;

typedef struct worker {
	shared *sh;
	dcfs_store *store;
	dcfs_registry *reg;
	pthread_t thread;
	bool running;
} worker;

typedef struct reader {
	dcfs_blob_reader *blob;
	shared *sh;
	dcfs_pull_event progress; /* DCFS_PULL_PROGRESS for this layer */
	double t0, last;
} reader;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report_progress(shared *sh, const dcfs_pull_event *ev)
{
	puller *p = sh->p;
	pthread_mutex_lock(&sh->lock);
	if (p->opts->progress && !atomic_load(&sh->failed))
		p->opts->progress(ev, p->opts->opaque);
	pthread_mutex_unlock(&sh->lock);
}

static ssize_t read_blob(void *opaque, const void **buf, dcfs_error *e)
{
	reader *rd = opaque;
	if (atomic_load(&rd->sh->failed))
		return dcfs_error_set(e, ECANCELED, "cancelled");
	ssize_t n = dcfs_blob_reader_read(rd->blob, buf, e);
	double t = now();
	if (n > 0 && t - rd->last >= 0.2) {
		rd->last = t;
		rd->progress.bytes = dcfs_blob_reader_bytes(rd->blob);
		rd->progress.seconds = t - rd->t0;
		report_progress(rd->sh, &rd->progress);
	}
	return n;
}

static void interrupt_blob(void *opaque)
{
	reader *rd = opaque;
	dcfs_blob_reader_interrupt(rd->blob);
}

/* Download a layer into a builder and record it; the digest is checked before the commit. */
static int fetch_layer(worker *w, const char *digest, size_t index, uint64_t size,
		       const char *source, int64_t *id, dcfs_layer_writer_stats *stats, uint64_t *bytes,
		       dcfs_error *e)
{
	_cleanup_(dcfs_blob_reader_freep) dcfs_blob_reader *b = NULL;
	_cleanup_ingest_ dcfs_layer_writer *in = NULL;
	const dcfs_layer_writer_stats *st = NULL;
	int r = dcfs_blob_reader_open(w->reg, digest, size, &b, e);
	if (r < 0)
		return r;
	double t0 = now();
	reader rd = {.blob = b, .sh = w->sh, .t0 = t0, .last = t0,
		     .progress = {.kind = DCFS_PULL_PROGRESS, .digest = digest, .index = index,
				  .count = w->sh->n, .size = size}};
	r = dcfs_layer_writer_new(w->store, "tar entry", &in, e);
	if (r >= 0)
		r = dcfs_import_read_tar_stream(in, NULL, read_blob, interrupt_blob, &rd, e);
	if (r >= 0)
		r = dcfs_blob_reader_finish(b, e);
	if (r >= 0)
		r = dcfs_layer_writer_commit_layer(in, source, id, &st, e);
	*bytes = dcfs_blob_reader_bytes(b);
	if (st)
		*stats = *st;
	return r;
}

static void report(shared *sh, dcfs_pull_event *ev)
{
	puller *p = sh->p;
	pthread_mutex_lock(&sh->lock);
	p->res->bytes += ev->bytes;
	p->res->cached += ev->cached;
	if (p->opts->progress && !atomic_load(&sh->failed))
		p->opts->progress(ev, p->opts->opaque);
	pthread_mutex_unlock(&sh->lock);
}

static int pull_layer(worker *w, size_t i, dcfs_error *e)
{
	shared *sh = w->sh;
	const cJSON *layer = cJSON_GetArrayItem(sh->layers, (int)i);
	/* check_manifest() made sure of the digest */
	const char *digest = cJSON_GetObjectItemCaseSensitive(layer, "digest")->valuestring;
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(layer, "size");
	uint64_t limit = cJSON_IsNumber(size) && size->valuedouble > 0 ? (uint64_t)size->valuedouble : 0;
	_cleanup_free_ char *source = NULL;
	if (asprintf(&source, "blob:%s", digest) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	dcfs_pull_event ev = {.kind = DCFS_PULL_LAYER, .digest = digest, .index = i, .count = sh->n,
			      .size = limit};
	double t0 = now();
	int r = dcfs_image_find_layer(w->store, source, &sh->ids[i], e);
	if (r < 0)
		return r;
	ev.cached = sh->ids[i] > 0;
	dcfs_layer_writer_stats stats;
	if (!ev.cached) {
		r = fetch_layer(w, digest, i, limit, source, &sh->ids[i], &stats, &ev.bytes, e);
		if (r < 0)
			return dcfs_error_wrap(e, "layer %s", digest);
		ev.stats = &stats;
	}
	ev.seconds = now() - t0;
	report(sh, &ev);
	return 0;
}

static void fail(shared *sh, dcfs_error *e)
{
	/* the first failure is the cause: the others are cancellations it caused */
	pthread_mutex_lock(&sh->lock);
	if (!atomic_load(&sh->failed)) {
		sh->err = *e;
		*e = (dcfs_error){0};
		atomic_store(&sh->failed, true);
	}
	pthread_mutex_unlock(&sh->lock);
	dcfs_error_clear(e);
}

static void *work(void *opaque)
{
	worker *w = opaque;
	shared *sh = w->sh;
	for (;;) {
		pthread_mutex_lock(&sh->lock);
		size_t i = sh->next < sh->n && !atomic_load(&sh->failed) ? sh->next++ : SIZE_MAX;
		pthread_mutex_unlock(&sh->lock);
		if (i == SIZE_MAX)
			return NULL;
		dcfs_error e = {0};
		if (pull_layer(w, i, &e) < 0) {
			fail(sh, &e);
			return NULL;
		}
	}
}

static int start(worker *w, shared *sh, dcfs_error *e)
{
	w->sh = sh;
	int r = dcfs_store_open(sh->p->store->root, DCFS_STORE_WRITE, &w->store, e);
	if (r >= 0)
		r = dcfs_registry_clone(sh->p->reg, &w->reg, e);
	if (r < 0)
		return r;
	r = pthread_create(&w->thread, NULL, work, w);
	if (r != 0)
		return dcfs_error_set(e, r, "cannot start a download thread: %s", strerror(r));
	w->running = true;
	return 0;
}

static void stop(worker *w)
{
	if (w->running)
		pthread_join(w->thread, NULL);
	dcfs_registry_free(w->reg);
	dcfs_store_close(w->store);
}

static int run_workers(shared *sh, dcfs_error *e)
{
	worker workers[PULL_WORKERS] = {0};
	size_t nw = sh->n < PULL_WORKERS ? sh->n : PULL_WORKERS;
	int r = 0;
	for (size_t i = 0; i < nw && r >= 0; i++) {
		r = start(&workers[i], sh, e);
		if (r < 0)
			atomic_store(&sh->failed, true); /* the started ones stop early */
	}
	for (size_t i = 0; i < nw; i++)
		stop(&workers[i]);
	if (r < 0) {
		dcfs_error_clear(&sh->err);
		return r;
	}
	if (atomic_load(&sh->failed)) {
		*e = sh->err;
		sh->err = (dcfs_error){0};
		return -(e->code ? e->code : EIO);
	}
	return 0;
}

int pull_layers(puller *p, const cJSON *m, int64_t **ids, dcfs_error *e)
{
	const cJSON *layers = cJSON_GetObjectItemCaseSensitive(m, "layers");
	size_t n = (size_t)cJSON_GetArraySize(layers);
	*ids = calloc(n ? n : 1, sizeof(**ids));
	if (!*ids)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	p->res->layers = n;
	if (p->opts->progress)
		p->opts->progress(&(dcfs_pull_event){.kind = DCFS_PULL_MANIFEST,
						     .digest = p->res->manifest, .count = n},
				  p->opts->opaque);
	shared sh = {.p = p, .layers = layers, .n = n, .ids = *ids};
	pthread_mutex_init(&sh.lock, NULL);
	int r = run_workers(&sh, e);
	pthread_mutex_destroy(&sh.lock);
	return r;
}
