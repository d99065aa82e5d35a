/* Computing the build key (see build_key.h): SHA-256 over a version string, the Dockerfile's
 * digest, the context's entries (build_key_walk.c) with the .dockerignore BuildKit would use
 * (`<Dockerfile>.dockerignore` beside the Dockerfile when it exists, else the context's
 * `.dockerignore`), then the build args, the target and the options. Every part is
 * length-prefixed or counted, so no two different inputs hash the same bytes. */
#include "build_key.h"

#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build_key_internal.h"
#include "cleanup.h"

#define BUILD_KEY_VERSION "dcfs-build-key 1"

void dcfs_build_key_put_u64(dcfs_hasher *h, uint64_t v)
{
	uint64_t le = htole64(v);
	dcfs_hasher_update(h, &le, sizeof(le));
}

void dcfs_build_key_put(dcfs_hasher *h, const void *buf, size_t len)
{
	dcfs_build_key_put_u64(h, len);
	dcfs_hasher_update(h, buf, len);
}

void dcfs_build_key_put_str(dcfs_hasher *h, const char *s)
{
	dcfs_build_key_put(h, s ? s : "", s ? strlen(s) : 0);
}

/* The SHA-256 of the Dockerfile's bytes. */
static int dockerfile_digest(const char *path, dcfs_hash *out, dcfs_error *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dcfs_error_set(e, errno, "%s: cannot read: %m", path);
	dcfs_hasher h;
	dcfs_hasher_init(&h);
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			dcfs_hasher_free(&h);
			return dcfs_error_set(e, err, "%s: cannot read: %s", path, strerror(err));
		}
		dcfs_hasher_update(&h, buf, (size_t)n);
	}
	dcfs_hasher_final(&h, out);
	dcfs_hasher_free(&h);
	return 0;
}

/* BuildKit's choice: `<Dockerfile>.dockerignore` when it exists, else the context's. */
static int load_ignore(const dcfs_build_spec *b, dcfs_dockerignore **out, dcfs_error *e)
{
	_cleanup_free_ char *beside = NULL, *in_context = NULL;
	if (asprintf(&beside, "%s.dockerignore", b->dockerfile) < 0)
		beside = NULL;
	if (asprintf(&in_context, "%s/.dockerignore", b->context) < 0)
		in_context = NULL;
	if (!beside || !in_context)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return dcfs_dockerignore_load(access(beside, F_OK) == 0 ? beside : in_context, out, e);
}

static void put_strings(dcfs_hasher *h, char *const *arr, size_t n)
{
	dcfs_build_key_put_u64(h, n);
	for (size_t i = 0; i < n; i++)
		dcfs_build_key_put_str(h, arr[i]);
}

static int key_parts(dcfs_hasher *h, const dcfs_build_spec *b, dcfs_error *e)
{
	dcfs_hash df;
	_cleanup_dockerignore_ dcfs_dockerignore *ignore = NULL;
	int r = dockerfile_digest(b->dockerfile, &df, e);
	if (r < 0 || (r = load_ignore(b, &ignore, e)) < 0)
		return r;
	dcfs_build_key_put_str(h, BUILD_KEY_VERSION);
	dcfs_build_key_put(h, df.b, sizeof(df.b));
	r = dcfs_build_key_walk(h, b->context, ignore, e);
	if (r < 0)
		return r;
	put_strings(h, b->args, b->n_args);
	dcfs_build_key_put_u64(h, b->target != NULL);
	dcfs_build_key_put_str(h, b->target);
	put_strings(h, b->options, b->n_options);
	return 0;
}

int dcfs_build_key(const dcfs_build_spec *b, char out[65], dcfs_error *e)
{
	dcfs_hasher h;
	dcfs_hasher_init(&h);
	int r = key_parts(&h, b, e);
	if (r >= 0) {
		dcfs_hash key;
		dcfs_hasher_final(&h, &key);
		dcfs_hash_to_hex(&key, out);
	}
	dcfs_hasher_free(&h);
	return r < 0 ? r : 0;
}
