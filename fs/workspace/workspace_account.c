/* The workspace's byte and file counts, kept live and written to the catalog.
 *
 * Two tables mirror the regular files of the workspace's device: `names` maps (folder inode,
 * name) to a file inode, `files` maps a file inode to its last known size and how many names
 * it has in the workspace. bytes is the sum of those sizes (a hardlinked file once), files the
 * number of distinct files. Everything is an observation: ws_acct_observe() stats a name now
 * and applies the difference to what the tables said, ws_acct_forget() drops a name; so the
 * handlers, the inotify thread and a walk may all report the same change in any order without
 * counting it twice. A full walk also forgets the names it did not meet (after an inotify
 * overflow, events were lost).
 *
 * A thread writes the counts to the catalog's `workspaces` row at most once a second when they
 * changed, on its own SQLite connection; request handlers never touch the catalog. The row
 * has in_use = 1 while mounted; a clean stop writes the final counts with in_use = 0. A row
 * still in use at mount means the last daemon died: its counts are recomputed by the walk,
 * which the view performs at every mount anyway (it places the inotify watches, and the host
 * may have edited the folder while nothing was mounted). */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon_log.h"
#include "workspace_internal.h"
#include "workspace_record.h"

typedef struct ws_file {
	ws_link link; /* ws->files, by ino */
	ino_t ino;
	off_t size;
	unsigned names;
} ws_file;

typedef struct ws_name {
	ws_link link; /* ws->names, by (dir, name) */
	ino_t dir;
	ino_t ino;
	unsigned gen;
	char name[];
} ws_name;

typedef struct name_key {
	ino_t dir;
	const char *name;
} name_key;

static uint64_t name_hash(ino_t dir, const char *name)
{
	return ws_hash(name, strlen(name), ws_hash(&dir, sizeof(dir), 2));
}

static bool name_eq(const ws_link *l, const void *key)
{
	const ws_name *n = ws_container_of(l, ws_name, link);
	const name_key *k = key;
	return n->dir == k->dir && !strcmp(n->name, k->name);
}

static bool file_eq(const ws_link *l, const void *key)
{
	return ws_container_of(l, ws_file, link)->ino == *(const ino_t *)key;
}

static uint64_t file_hash(ino_t ino)
{
	return ws_hash(&ino, sizeof(ino), 3);
}

static ws_file *file_find(dcfs_workspace_fs *ws, ino_t ino)
{
	ws_link *l = ws_table_find(&ws->files, file_hash(ino), file_eq, &ino);
	return l ? ws_container_of(l, ws_file, link) : NULL;
}

static ws_name *name_find(dcfs_workspace_fs *ws, ino_t dir, const char *name)
{
	name_key k = {dir, name};
	ws_link *l = ws_table_find(&ws->names, name_hash(dir, name), name_eq, &k);
	return l ? ws_container_of(l, ws_name, link) : NULL;
}

/* Remove a name; its file goes when it was the last name. ws->alock held. */
static void drop_name(dcfs_workspace_fs *ws, ws_name *n)
{
	ws_file *f = file_find(ws, n->ino);
	assert(!f || f->names > 0);
	if (f && --f->names == 0) {
		ws->bytes -= f->size;
		ws->nfiles--;
		ws_table_remove(&ws->files, &f->link);
		free(f);
	}
	ws_table_remove(&ws->names, &n->link);
	free(n);
	ws->dirty = true;
}

/* Add a name for a file (which may be new). ws->alock held. */
static ws_name *add_name(dcfs_workspace_fs *ws, ino_t dir, const char *name, ino_t ino)
{
	ws_file *f = file_find(ws, ino);
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f || ws_table_insert(&ws->files, &f->link, file_hash(ino)) < 0) {
			free(f);
			return NULL;
		}
		f->ino = ino;
		ws->nfiles++;
	}
	ws_name *n = malloc(sizeof(*n) + strlen(name) + 1);
	if (!n || ws_table_insert(&ws->names, &n->link, name_hash(dir, name)) < 0) {
		free(n);
		if (f->names == 0) {
			ws_table_remove(&ws->files, &f->link);
			free(f);
			ws->nfiles--;
		}
		return NULL;
	}
	n->dir = dir;
	n->ino = ino;
	strcpy(n->name, name);
	f->names++;
	ws->dirty = true;
	return n;
}

static void set_size(dcfs_workspace_fs *ws, ws_file *f, off_t size)
{
	if (f->size == size)
		return;
	ws->bytes += size - f->size;
	f->size = size;
	ws->dirty = true;
}

/* ws->alock held: the stat happens under it, so observations apply in the order they saw. */
static void observe_locked(dcfs_workspace_fs *ws, int dirfd, ino_t dir, const char *name,
			   struct stat *st)
{
	ws_name *n = name_find(ws, dir, name);
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0) {
		memset(st, 0, sizeof(*st));
		if (n && (errno == ENOENT || errno == ENOTDIR))
			drop_name(ws, n);
		return;
	}
	bool counted = S_ISREG(st->st_mode) && st->st_dev == ws->dev;
	if (n && (!counted || n->ino != st->st_ino)) {
		drop_name(ws, n);
		n = NULL;
	}
	if (!counted)
		return;
	if (!n && !(n = add_name(ws, dir, name, st->st_ino)))
		return; /* out of memory: the next walk catches up */
	n->gen = ws->agen;
	ws_file *f = file_find(ws, st->st_ino);
	if (f)
		set_size(ws, f, st->st_size);
}

void ws_acct_observe(dcfs_workspace_fs *ws, int dirfd, ino_t dir, const char *name, struct stat *st)
{
	pthread_mutex_lock(&ws->alock);
	observe_locked(ws, dirfd, dir, name, st);
	pthread_mutex_unlock(&ws->alock);
}

void ws_acct_forget(dcfs_workspace_fs *ws, ino_t dir, const char *name)
{
	pthread_mutex_lock(&ws->alock);
	ws_name *n = name_find(ws, dir, name);
	if (n)
		drop_name(ws, n);
	pthread_mutex_unlock(&ws->alock);
}

void ws_acct_rename(dcfs_workspace_fs *ws, int dirfd, ino_t dir, const char *name, int newdirfd,
		    ino_t newdir, const char *newname, bool exchange)
{
	struct stat st;
	pthread_mutex_lock(&ws->alock);
	/* observe the new name first: the file keeps a name throughout */
	observe_locked(ws, newdirfd, newdir, newname, &st);
	if (exchange) {
		observe_locked(ws, dirfd, dir, name, &st);
	} else {
		ws_name *n = name_find(ws, dir, name);
		if (n)
			drop_name(ws, n);
	}
	pthread_mutex_unlock(&ws->alock);
}

void ws_acct_size(dcfs_workspace_fs *ws, const struct stat *st)
{
	if (st->st_dev != ws->dev || !S_ISREG(st->st_mode))
		return;
	pthread_mutex_lock(&ws->alock);
	ws_file *f = file_find(ws, st->st_ino);
	if (f)
		set_size(ws, f, st->st_size);
	pthread_mutex_unlock(&ws->alock);
}

void dcfs_workspace_fs_counts(dcfs_workspace_fs *ws, int64_t *bytes, int64_t *files)
{
	pthread_mutex_lock(&ws->alock);
	*bytes = ws->bytes;
	*files = ws->nfiles;
	pthread_mutex_unlock(&ws->alock);
}

/* ---- the walk ---- */

/* Watch and count the folder open at `fd` (inode `ino`), recursively; `fd` is consumed. */
static void walk_fd(dcfs_workspace_fs *ws, int fd, ino_t ino)
{
	ws_watch_add(ws, fd);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	while (!atomic_load(&ws->settle_quit) && (de = readdir(d))) {
		if (de->d_type == DT_DIR) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			struct stat st;
			if (sub >= 0 && fstat(sub, &st) == 0 && st.st_dev == ws->dev)
				walk_fd(ws, sub, st.st_ino);
			else if (sub >= 0)
				close(sub); /* another file system: not counted, not watched */
		} else if (de->d_type == DT_REG || de->d_type == DT_UNKNOWN) {
			struct stat st;
			ws_acct_observe(ws, dirfd(d), ino, de->d_name, &st);
		}
	}
	closedir(d);
}

static void sweep_name(ws_link *l, void *arg)
{
	dcfs_workspace_fs *ws = arg;
	ws_name *n = ws_container_of(l, ws_name, link);
	if (n->gen != ws->agen)
		drop_name(ws, n);
}

void ws_acct_walk(dcfs_workspace_fs *ws, int dirfd, const char *name)
{
	bool full = dirfd < 0;
	int fd = full ? openat(ws->mount_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
		      : openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_dev != ws->dev) {
		if (fd >= 0)
			close(fd);
		return;
	}
	unsigned wgen = 0;
	if (full) {
		wgen = ws_watch_sweep_begin(ws);
		pthread_mutex_lock(&ws->alock);
		ws->agen++;
		pthread_mutex_unlock(&ws->alock);
	}
	walk_fd(ws, fd, st.st_ino);
	if (!full)
		return;
	ws_watch_sweep_end(ws, wgen);
	pthread_mutex_lock(&ws->alock);
	ws_table_each(&ws->names, sweep_name, ws);
	ws->counted = true;
	ws->dirty = true;
	pthread_mutex_unlock(&ws->alock);
}

/* ---- the catalog ---- */

static int write_row(dcfs_workspace_fs *ws, int64_t bytes, int64_t files, bool in_use,
		     dcfs_error *e)
{
	return dcfs_workspace_record_write(ws->db, ws->path, bytes, files, in_use, e);
}

static void *flush_main(void *arg)
{
	dcfs_workspace_fs *ws = arg;
	pthread_mutex_lock(&ws->alock);
	while (!ws->astop) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_sec += 1;
		pthread_cond_timedwait(&ws->acond, &ws->alock, &t);
		if (ws->astop || !ws->dirty || !ws->counted)
			continue;
		int64_t bytes = ws->bytes, files = ws->nfiles;
		ws->dirty = false;
		pthread_mutex_unlock(&ws->alock);
		_cleanup_error_ dcfs_error e = {0};
		int r = write_row(ws, bytes, files, true, &e);
		pthread_mutex_lock(&ws->alock);
		if (r < 0)
			ws->dirty = true; /* busy or failing catalog: try again next second */
	}
	pthread_mutex_unlock(&ws->alock);
	return NULL;
}

int ws_acct_start(dcfs_workspace_fs *ws, dcfs_error *e)
{
	if (!ws->store_root)
		return 0;
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/catalog.db", ws->store_root) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int r = dcfs_catalog_open(path, &ws->db, e);
	if (r < 0)
		return r;
	pthread_mutex_lock(&ws->alock);
	int64_t bytes = ws->bytes, files = ws->nfiles;
	ws->dirty = false;
	pthread_mutex_unlock(&ws->alock);
	r = write_row(ws, bytes, files, true, e);
	if (r < 0)
		return dcfs_error_wrap(e, "workspace '%s'", ws->path);
	r = pthread_create(&ws->flush_thread, NULL, flush_main, ws);
	if (r)
		return dcfs_error_set(e, r, "cannot start the catalog thread: %s", strerror(r));
	ws->flush_started = true;
	return 0;
}

void ws_acct_stop(dcfs_workspace_fs *ws)
{
	if (ws->flush_started) {
		pthread_mutex_lock(&ws->alock);
		ws->astop = true;
		pthread_cond_signal(&ws->acond);
		pthread_mutex_unlock(&ws->alock);
		pthread_join(ws->flush_thread, NULL);
		ws->flush_started = false;
	}
	if (!ws->db)
		return;
	int64_t bytes, files;
	dcfs_workspace_fs_counts(ws, &bytes, &files);
	_cleanup_error_ dcfs_error e = {0};
	if (write_row(ws, bytes, files, false, &e) < 0)
		dcfs_daemon_log(FUSE_LOG_ERR, "workspace '%s': %s", ws->path, e.msg ? e.msg : "");
	dcfs_catalog_close(&ws->db);
}

static void free_file_link(ws_link *l, void *arg)
{
	free(ws_container_of(l, ws_file, link));
}

static void free_name_link(ws_link *l, void *arg)
{
	free(ws_container_of(l, ws_name, link));
}

void ws_acct_free(dcfs_workspace_fs *ws)
{
	ws_table_each(&ws->files, free_file_link, NULL);
	ws_table_free(&ws->files);
	ws_table_each(&ws->names, free_name_link, NULL);
	ws_table_free(&ws->names);
	if (ws->db)
		dcfs_catalog_close(&ws->db);
}
