/* Opening a store: creating its folders, taking its lock, clearing stale staging folders left by
 * writers that died, and opening the catalog. */
#include "store.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "catalog.h"
#include "cleanup.h"
#include "config.h"
#include "fsutil.h"

const char *dcfs_store_default_path(const char *option)
{
	if (option && *option)
		return option;
	const char *env = getenv("DCFS_STORE");
	if (env && *env)
		return env;
	return DCFS_DEFAULT_STORE;
}

void dcfs_store_chunk_name(const dcfs_hash *h, char out[3 + DCFS_HASH_HEX])
{
	char hex[DCFS_HASH_HEX];
	dcfs_hash_to_hex(h, hex);
	out[0] = hex[0];
	out[1] = hex[1];
	out[2] = '/';
	memcpy(out + 3, hex, DCFS_HASH_HEX);
}

static int make_layout(int root_fd, const char *root, dcfs_error *e)
{
	static const char *const dirs[] = {"chunks", "tmp", "quarantine", "containers", "volumes", "mnt"};
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
		if (mkdirat(root_fd, dirs[i], 0700) < 0 && errno != EEXIST)
			return dcfs_error_set(e, errno, "cannot create '%s/%s': %m", root, dirs[i]);
	_cleanup_close_ int chunks = openat(root_fd, "chunks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (chunks < 0)
		return dcfs_error_set(e, errno, "cannot open '%s/chunks': %m", root);
	struct stat st;
	if (fstatat(chunks, "ff", &st, 0) == 0)
		return 0;
	for (int i = 0; i < 256; i++) {
		char name[3];
		snprintf(name, sizeof(name), "%02x", i);
		if (mkdirat(chunks, name, 0700) < 0 && errno != EEXIST)
			return dcfs_error_set(e, errno, "cannot create '%s/chunks/%s': %m", root, name);
	}
	return 0;
}

/* Remove staging folders whose writer is gone: a live writer holds a flock on its folder.
 * Folders are created under a dot-name and renamed once locked, so a folder without a dot is
 * always either locked or abandoned. */
static void clear_stale_tmp(int root_fd)
{
	_cleanup_close_ int tmp = openat(root_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmp < 0)
		return;
	_cleanup_closedir_ DIR *d = fdopendir(dup(tmp));
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_close_ int fd = openat(tmp, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		struct stat st;
		/* a dot-folder is a writer between mkdir and flock, unless it is old */
		if (de->d_name[0] == '.' &&
		    (fstat(fd, &st) < 0 || st.st_mtime > time(NULL) - 3600))
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			dcfs_rm_rf_at(tmp, de->d_name);
	}
}

static int make_tmp(dcfs_store *s, dcfs_error *e)
{
	char name[64];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(name, sizeof(name), "%d.%lx", (int)getpid(), (unsigned long)ts.tv_nsec);
	_cleanup_free_ char *hidden = NULL;
	if (asprintf(&s->tmp_path, "%s/tmp/%s", s->root, name) < 0 ||
	    asprintf(&hidden, "%s/tmp/.%s", s->root, name) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (mkdir(hidden, 0700) < 0)
		return dcfs_error_set(e, errno, "cannot create '%s': %m", hidden);
	s->tmp_fd = open(hidden, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->tmp_fd < 0 || flock(s->tmp_fd, LOCK_EX | LOCK_NB) < 0)
		return dcfs_error_set(e, errno, "cannot lock '%s': %m", hidden);
	if (rename(hidden, s->tmp_path) < 0)
		return dcfs_error_set(e, errno, "cannot rename '%s': %m", hidden);
	return 0;
}

int dcfs_store_open(const char *root, dcfs_store_mode mode, dcfs_store **out, dcfs_error *e)
{
	_cleanup_store_ dcfs_store *s = calloc(1, sizeof(*s));
	if (!s)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	s->root_fd = s->chunks_fd = s->tmp_fd = s->lock_fd = -1;
	s->root = strdup(root);
	if (!s->root)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	struct stat st;
	if (mode == DCFS_STORE_READ && stat(root, &st) < 0 && errno == ENOENT) {
		/* Reading a store that does not exist yet: an empty one, created nowhere. */
		int r = dcfs_catalog_open(":memory:", &s->db, e);
		if (r < 0)
			return r;
		*out = TAKE_PTR(s);
		return 0;
	}
	int r = dcfs_mkdir_p(root, 0700);
	if (r < 0)
		return dcfs_error_set(e, r, "cannot create store '%s': %s", root, strerror(-r));
	s->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0)
		return dcfs_error_set(e, errno, "cannot open store '%s': %m", root);
	r = make_layout(s->root_fd, root, e);
	if (r < 0)
		return r;
	s->lock_fd = openat(s->root_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0)
		return dcfs_error_set(e, errno, "cannot open '%s/lock': %m", root);
	if (mode != DCFS_STORE_READ &&
	    flock(s->lock_fd, mode == DCFS_STORE_EXCLUSIVE ? LOCK_EX : LOCK_SH) < 0)
		return dcfs_error_set(e, errno, "cannot lock store '%s': %m", root);
	s->chunks_fd = openat(s->root_fd, "chunks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->chunks_fd < 0)
		return dcfs_error_set(e, errno, "cannot open '%s/chunks': %m", root);
	if (mode != DCFS_STORE_READ) {
		clear_stale_tmp(s->root_fd);
		r = make_tmp(s, e);
		if (r < 0)
			return r;
	}
	_cleanup_free_ char *db_path = NULL;
	if (asprintf(&db_path, "%s/catalog.db", root) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	r = dcfs_catalog_open(db_path, &s->db, e);
	if (r < 0)
		return r;
	*out = TAKE_PTR(s);
	return 0;
}

void dcfs_store_close(dcfs_store *s)
{
	if (!s)
		return;
	if (s->db)
		dcfs_catalog_close(&s->db);
	if (s->tmp_fd >= 0) {
		dcfs_rm_rf(s->tmp_path);
		close(s->tmp_fd);
	}
	if (s->chunks_fd >= 0)
		close(s->chunks_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s->tmp_path);
	free(s->root);
	free(s);
}
