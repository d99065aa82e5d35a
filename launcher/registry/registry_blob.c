/* Reading a blob as it downloads (see registry.h): libcurl's multi interface drives one
 * transfer, and each read pumps it until some bytes have arrived, so that libarchive can pull
 * a layer through the layer builder without the layer ever being written to disk. The bytes
 * are hashed as they arrive; the end of the stream is only reported once they match the
 * digest. The transfer pauses while a megabyte waits for the reader, so memory stays bounded
 * however fast the network is. A transfer that breaks (or a 429/5xx answer) is retried after a
 * pause, resuming with a Range request from the bytes already received. */
#include "registry.h"
#include "registry_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define BLOB_RECV_BUFFER (256L * 1024)
/* What may arrive before the reader takes it: past this, the transfer pauses (curl would
 * otherwise deliver all that the socket holds in one go, tens of megabytes on loopback). */
#define BLOB_BUFFER_MAX (1024 * 1024)

struct dcfs_blob_reader {
	dcfs_registry *reg;
	char *digest;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	char *buf; /* what arrived since the last read */
	size_t len, cap;
	dcfs_hasher hasher;
	uint64_t bytes;
	uint64_t limit; /* the size the manifest gives, 0 when unknown */
	bool too_big;
	long status;
	uint64_t pos; /* offset in the blob of the next byte this attempt receives */
	bool started; /* this attempt has received its first bytes */
	bool paused;  /* the buffer is full: the transfer waits for the reader */
	atomic_bool interrupted;
	int attempt;
	bool done, verified;
	bool hashed; /* got holds the digest of what arrived (checking again must not rehash) */
	char got[8 + DCFS_HASH_HEX];
	CURLcode result;
};

static size_t blob_write(char *data, size_t size, size_t n, void *opaque)
{
	dcfs_blob_reader *b = opaque;
	size_t len = size * n;
	curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &b->status);
	if (b->status != 200 && b->status != 206)
		return len; /* an error page: the status says it all */
	if (b->len > 0 && b->len + len > BLOB_BUFFER_MAX) {
		b->paused = true; /* curl keeps these bytes and hands them over again */
		return CURL_WRITEFUNC_PAUSE;
	}
	if (!b->started) {
		/* a server that ignores Range sends it all again: skip what we have */
		b->started = true;
		b->pos = b->status == 206 ? b->bytes : 0;
	}
	uint64_t start = b->pos;
	b->pos += len;
	if (b->pos <= b->bytes)
		return len;
	if (start < b->bytes) {
		data += b->bytes - start;
		len -= (size_t)(b->bytes - start);
	}
	if (b->limit && b->bytes + len > b->limit) {
		b->too_big = true;
		return 0; /* ends the transfer */
	}
	if (b->len + len > b->cap) {
		size_t cap = (b->len + len) * 2;
		char *p = realloc(b->buf, cap);
		if (!p)
			return 0;
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->bytes += len;
	dcfs_hasher_update(&b->hasher, data, len);
	return size * n;
}

int dcfs_blob_reader_open(dcfs_registry *r, const char *digest, uint64_t size,
			  dcfs_blob_reader **out, dcfs_error *e)
{
	*out = NULL;
	_cleanup_free_ char *url = registry_url(r, "blobs", digest);
	dcfs_blob_reader *b = calloc(1, sizeof(*b));
	if (!url || !b) {
		free(b);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	dcfs_hasher_init(&b->hasher);
	b->reg = r;
	b->limit = size;
	b->digest = strdup(digest);
	b->multi = curl_multi_init();
	b->easy = curl_easy_init();
	b->headers = registry_headers(r, NULL);
	if (!b->digest || !b->multi || !b->easy || !b->headers) {
		dcfs_blob_reader_free(b);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	registry_setup(r, b->easy, url, b->headers);
	/* fewer, larger receives than curl's 16 KiB: a layer is tens of megabytes */
	curl_easy_setopt(b->easy, CURLOPT_BUFFERSIZE, BLOB_RECV_BUFFER);
	curl_easy_setopt(b->easy, CURLOPT_WRITEFUNCTION, blob_write);
	curl_easy_setopt(b->easy, CURLOPT_WRITEDATA, b);
	curl_multi_add_handle(b->multi, b->easy);
	*out = b;
	return 0;
}

/* After a broken transfer or a 429/5xx: pause, then ask for the rest. False when it should not
 * or may not be retried. */
static bool restart(dcfs_blob_reader *b)
{
	long status = 0;
	if (b->too_big)
		return false;
	if (b->result == CURLE_OK)
		curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &status);
	if (!registry_retryable(b->result, status) || !registry_backoff(b->easy, b->attempt++))
		return false;
	curl_multi_remove_handle(b->multi, b->easy);
	/* CURLOPT_RANGE rather than RESUME_FROM: a server may ignore it and send it all */
	char range[32];
	snprintf(range, sizeof(range), "%llu-", (unsigned long long)b->bytes);
	curl_easy_setopt(b->easy, CURLOPT_RANGE, b->bytes ? range : NULL);
	b->started = false;
	b->paused = false;
	b->status = 0;
	b->done = false;
	b->result = CURLE_OK;
	curl_multi_add_handle(b->multi, b->easy);
	return true;
}

/* Run the transfer until bytes arrive or it ends (for good: a broken one is restarted). */
static int pump(dcfs_blob_reader *b, dcfs_error *e)
{
	for (;;) {
		if (atomic_load(&b->interrupted))
			return dcfs_error_set(e, ECANCELED, "cancelled");
		if (b->len > 0 || (b->done && !restart(b)))
			return 0;
		int running = 0;
		CURLMcode mc = curl_multi_perform(b->multi, &running);
		if (mc != CURLM_OK)
			return dcfs_error_set(e, EIO, "download failed: %s", curl_multi_strerror(mc));
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(b->multi, &left)))
			if (msg->msg == CURLMSG_DONE) {
				b->done = true;
				b->result = msg->data.result;
			}
		if (b->len == 0 && !b->done && running)
			curl_multi_poll(b->multi, NULL, 0, 1000, NULL);
	}
}

/* The transfer ended: was it whole, and is it what was asked for? */
static int check_end(dcfs_blob_reader *b, dcfs_error *e)
{
	if (b->too_big)
		return dcfs_error_set(e, EBADMSG, "blob is larger than its %llu bytes",
				      (unsigned long long)b->limit);
	if (b->result != CURLE_OK && registry_refusal(b->reg, b->easy, b->result, e) < 0)
		return -EPERM;
	if (b->result != CURLE_OK)
		return dcfs_error_set(e, EIO, "download failed: %s", curl_easy_strerror(b->result));
	curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &b->status);
	if (b->status != 200 && b->status != 206)
		return registry_status_error(b->status, "blob", e);
	if (!b->hashed) {
		dcfs_hash h;
		dcfs_hasher_final(&b->hasher, &h);
		memcpy(b->got, "sha256:", 7);
		dcfs_hash_to_hex(&h, b->got + 7);
		b->hashed = true;
	}
	if (strcmp(b->got, b->digest))
		return dcfs_error_set(e, EBADMSG, "blob does not match its digest (got %s)", b->got);
	b->verified = true;
	return 0;
}

ssize_t dcfs_blob_reader_read(dcfs_blob_reader *b, const void **buf, dcfs_error *e)
{
	if (b->verified)
		return 0;
	b->len = 0; /* the caller is done with the previous bytes */
	if (b->paused) {
		b->paused = false;
		curl_easy_pause(b->easy, CURLPAUSE_CONT); /* may hand over the kept bytes at once */
	}
	int r = pump(b, e);
	if (r < 0)
		return r;
	if (b->len > 0) {
		*buf = b->buf;
		return (ssize_t)b->len;
	}
	r = check_end(b, e);
	return r < 0 ? r : 0;
}

int dcfs_blob_reader_finish(dcfs_blob_reader *b, dcfs_error *e)
{
	for (;;) {
		const void *buf;
		ssize_t n = dcfs_blob_reader_read(b, &buf, e);
		if (n <= 0)
			return (int)n;
	}
}

uint64_t dcfs_blob_reader_bytes(const dcfs_blob_reader *b)
{
	return b->bytes;
}

void dcfs_blob_reader_interrupt(dcfs_blob_reader *b)
{
	atomic_store(&b->interrupted, true);
	curl_multi_wakeup(b->multi); /* ends a curl_multi_poll() at once */
}

void dcfs_blob_reader_free(dcfs_blob_reader *b)
{
	if (!b)
		return;
	if (b->multi && b->easy)
		curl_multi_remove_handle(b->multi, b->easy);
	if (b->easy)
		curl_easy_cleanup(b->easy);
	if (b->multi)
		curl_multi_cleanup(b->multi);
	curl_slist_free_all(b->headers);
	dcfs_hasher_free(&b->hasher);
	free(b->buf);
	free(b->digest);
	free(b);
}
