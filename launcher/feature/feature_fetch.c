/* dcfs_feature_fetch: a feature's files and digest by where it comes from. A local folder is
 * used where it is, its digest a walk of its tree (feature_digest_dir.c); an OCI artifact's
 * layer (feature_fetch_oci.c) or a tarball URL's bytes (feature_fetch_url.c) are unpacked once
 * into STORE/features/<HEX>/ (feature_unpack.c), staged in the store's staging folder. Each
 * remote source's last digest is remembered in STORE/features/refs/<sha256 of the location>, so
 * that a registry or server that cannot be reached leaves the feature fetched before usable
 * (with a warning). */
#include "feature.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "feature_fetch_internal.h"
#include "fsutil.h"

#define FEATURES_DIR "features"
#define REFS_DIR "refs"

static int fetch_local(const dcfs_feature_source *src, char **folder, char **digest,
		       dcfs_error *e)
{
	char d[DCFS_FEATURE_DIGEST_LEN];
	_cleanup_close_ int fd =
		open(src->location, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return dcfs_error_set(e, errno, "feature '%s': cannot open '%s': %m", src->written,
				      src->location);
	if (!dcfs_feature_unpacked(fd, "."))
		return dcfs_error_set(e, ENOENT, "feature '%s': '%s' has no devcontainer-feature.json",
				      src->written, src->location);
	int r = dcfs_feature_digest_dir(src->location, d, e);
	if (r < 0)
		return dcfs_error_wrap(e, "feature '%s'", src->written);
	*folder = strdup(src->location);
	*digest = strdup(d);
	if (!*folder || !*digest)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

/* Open (creating) the folder `name` under `dir`. */
static int open_dir(int dir, const char *name, const char *path, dcfs_error *e)
{
	if (mkdirat(dir, name, 0700) < 0 && errno != EEXIST)
		return dcfs_error_set(e, errno, "cannot create '%s': %m", path);
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return dcfs_error_set(e, errno, "cannot open '%s': %m", path);
	return fd;
}

/* "ref-<sha256 of location>": the memory's file for a remote source. */
static void memory_name(const char *location, char out[4 + DCFS_HASH_HEX])
{
	dcfs_hash h;
	dcfs_hash_buf(location, strlen(location), &h);
	memcpy(out, "ref-", 4);
	dcfs_hash_to_hex(&h, out + 4);
}

/* Remember `digest` as the location's last one (replaced atomically; a failure only loses the
 * memory). */
static void memory_save(int refs, const char *location, const char *digest)
{
	char name[4 + DCFS_HASH_HEX], tmp[64 + DCFS_HASH_HEX];
	memory_name(location, name);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(tmp, sizeof(tmp), ".%s.%d.%lx", name, (int)getpid(), (unsigned long)ts.tv_nsec);
	_cleanup_close_ int fd = openat(refs, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	char line[DCFS_FEATURE_DIGEST_LEN + 1];
	int n = snprintf(line, sizeof(line), "%s\n", digest);
	if (dcfs_write_all(fd, line, (size_t)n) < 0 || renameat(refs, tmp, refs, name) < 0)
		unlinkat(refs, tmp, 0);
}

/* The location's remembered digest: 0 with `out`, or -ENOENT. */
static int memory_load(int refs, const char *location, char out[DCFS_FEATURE_DIGEST_LEN])
{
	char name[4 + DCFS_HASH_HEX];
	memory_name(location, name);
	_cleanup_close_ int fd = openat(refs, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	char line[DCFS_FEATURE_DIGEST_LEN + 1] = {0};
	ssize_t n = dcfs_read_full(fd, line, sizeof(line) - 1);
	dcfs_hash h;
	if (n != DCFS_FEATURE_DIGEST_LEN || line[n - 1] != '\n' || strncmp(line, "sha256:", 7))
		return -ENOENT;
	line[n - 1] = '\0';
	if (!dcfs_hash_from_hex(line + 7, &h))
		return -ENOENT;
	memcpy(out, line, DCFS_FEATURE_DIGEST_LEN);
	return 0;
}

/* The remote source's digest from the network, into `d` and unpacked under `dest`. */
static int fetch_remote(const dcfs_feature_source *src, bool insecure, int tmp, int dest,
			char d[DCFS_FEATURE_DIGEST_LEN], dcfs_error *e)
{
	if (src->kind == DCFS_FEATURE_OCI)
		return dcfs_feature_fetch_oci(src->location, insecure, tmp, dest, d, e);
	return dcfs_feature_fetch_url(src->location, tmp, dest, d, e);
}

/* After an unreachable source: the digest fetched before, with a warning; else the error. */
static int fall_back(const dcfs_feature_source *src, int refs, int dest, dcfs_report *report,
		     char d[DCFS_FEATURE_DIGEST_LEN], int r, dcfs_error *e)
{
	if (memory_load(refs, src->location, d) < 0 || !dcfs_feature_unpacked(dest, d + 7)) {
		dcfs_error_wrap(e, "feature '%s'", src->written);
		return r;
	}
	dcfs_report_warning(report, "feature '%s': %s; using %s, fetched before", src->written,
			    e && e->msg ? e->msg : strerror(-r), d);
	dcfs_error_clear(e);
	return 0;
}

static int fetch_remote_cached(dcfs_store *s, const dcfs_feature_source *src, bool insecure,
			       dcfs_report *report, char **folder, char **digest, dcfs_error *e)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/" FEATURES_DIR, s->root) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_close_ int dest = open_dir(s->root_fd, FEATURES_DIR, path, e);
	if (dest < 0)
		return dest;
	_cleanup_close_ int refs = open_dir(dest, REFS_DIR, path, e);
	if (refs < 0)
		return refs;
	char d[DCFS_FEATURE_DIGEST_LEN];
	int r = 0;
	/* a digest reference names content that never changes: no need to ask again */
	if (src->kind != DCFS_FEATURE_OCI || !strstr(src->location, "@sha256:") ||
	    memory_load(refs, src->location, d) < 0 || !dcfs_feature_unpacked(dest, d + 7)) {
		r = fetch_remote(src, insecure, s->tmp_fd >= 0 ? s->tmp_fd : dest, dest, d, e);
		if (r == -EHOSTUNREACH)
			r = fall_back(src, refs, dest, report, d, r, e);
		else if (r < 0)
			dcfs_error_wrap(e, "feature '%s'", src->written);
		else
			memory_save(refs, src->location, d);
	}
	if (r < 0)
		return r;
	if (asprintf(folder, "%s/%s", path, d + 7) < 0 || !(*digest = strdup(d)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

int dcfs_feature_fetch(dcfs_store *s, const dcfs_feature_source *src, bool insecure,
		       dcfs_report *report, char **folder, char **digest, dcfs_error *e)
{
	*folder = *digest = NULL;
	int r;
	switch (src->kind) {
	case DCFS_FEATURE_LOCAL:
		r = fetch_local(src, folder, digest, e);
		break;
	case DCFS_FEATURE_OCI:
	case DCFS_FEATURE_TARBALL:
		r = fetch_remote_cached(s, src, insecure, report, folder, digest, e);
		break;
	default:
		r = dcfs_error_set(e, EINVAL, "feature '%s': unknown kind", src->written);
	}
	if (r < 0) {
		free(*folder);
		free(*digest);
		*folder = *digest = NULL;
	}
	return r;
}
