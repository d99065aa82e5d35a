/* What acts on a container as a whole: where runc keeps its state for the store, whether its
 * mounts are in place, stopping it (its appPort relay, runc, then the workspace and root
 * mounts), the per-folder lock and the size of its upper directory. */
#include <fcntl.h>
#include <fts.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "container.h"
#include "devcontainer.h"
#include "fsutil.h"
#include "mount.h"
#include "port_forward.h"
#include "runtime.h"

char *dcfs_container_runc_root(dcfs_store *s, dcfs_error *e)
{
	_cleanup_free_ char *root = realpath(s->root, NULL);
	char *p = NULL;
	if (!root)
		return dcfs_error_set(e, errno, "cannot resolve store '%s': %m", s->root), NULL;
	if (asprintf(&p, "%s/run/runc", root) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory"), NULL;
	int r = dcfs_mkdir_p(p, 0700);
	if (r < 0) {
		dcfs_error_set(e, r, "cannot create '%s': %s", p, strerror(-r));
		free(p);
		return NULL;
	}
	return p;
}

bool dcfs_container_is_mounted(const char *path)
{
	struct stat st, parent;
	_cleanup_free_ char *up = NULL;
	if (asprintf(&up, "%s/..", path) < 0)
		return false;
	if (stat(path, &st) < 0)
		return errno == ENOTCONN;
	return stat(up, &parent) == 0 && (st.st_dev != parent.st_dev || st.st_ino == parent.st_ino);
}

static int unmount_if_mounted(dcfs_store *s, const char *id, const char *sub, dcfs_error *e)
{
	_cleanup_free_ char *p = !strcmp(sub, "workspace")
					 ? dcfs_container_workspace_mnt(s, id, false, e)
				 : !strcmp(sub, "legacy-workspace") ? dcfs_container_path(s, id, "workspace")
								     : dcfs_container_path(s, id, sub);
	if (!p)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (!dcfs_container_is_mounted(p))
		return 0;
	return dcfs_umount(p, e);
}

int dcfs_container_stop(dcfs_store *s, const dcfs_container *c, int timeout_ms, dcfs_error *e)
{
	_cleanup_free_ char *root = dcfs_container_runc_root(s, e);
	_cleanup_free_ char *log = dcfs_container_path(s, c->id, "log");
	if (!root || !log)
		return root ? dcfs_error_set(e, ENOMEM, "out of memory") : -EIO;
	_cleanup_free_ char *forward = dcfs_container_path(s, c->id, "forward.pid");
	dcfs_runc rc = {.root = root, .log = log, .name = c->name};
	int r = forward ? dcfs_port_forward_stop(forward, e)
			: dcfs_error_set(e, ENOMEM, "out of memory");
	if (dcfs_container_on_engine(c))
		r = r ?: dcfs_container_engine_stop(s, c, timeout_ms, e);
	else
		r = r ?: dcfs_runc_stop(&rc, c->id, timeout_ms, e);
	r = r ?: unmount_if_mounted(s, c->id, "workspace", e);
	/* where the workspace view was mounted before it moved to /run/dcfs */
	r = r ?: unmount_if_mounted(s, c->id, "legacy-workspace", e);
	/* a prebuild's copy-on-write workspace, which the view served (prebuild_workspace.h) */
	r = r ?: unmount_if_mounted(s, c->id, "workspace-cow", e);
	r = r ?: unmount_if_mounted(s, c->id, "rootfs", e);
	if (!dcfs_container_on_engine(c)) /* the engine's stop measured it */
		r = r ?: dcfs_container_measure(s, c->id, e);
	return r ?: dcfs_container_set_state(s, c->id, "stopped", e);
}

int dcfs_container_lock(dcfs_store *s, const char *folder, dcfs_error *e)
{
	_cleanup_free_ char *abs = dcfs_host_path_absolute(folder ? folder : ".");
	_cleanup_free_ char *root = realpath(s->root, NULL), *dir = NULL, *path = NULL;
	if (!abs || !root || asprintf(&dir, "%s/run/locks", root) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	dcfs_hash h;
	dcfs_hash_buf(abs, strlen(abs), &h);
	char hex[DCFS_HASH_HEX];
	dcfs_hash_to_hex(&h, hex);
	int r = dcfs_mkdir_p(dir, 0700);
	if (r < 0)
		return dcfs_error_set(e, r, "cannot create '%s': %s", dir, strerror(-r));
	if (asprintf(&path, "%s/%.16s", dir, hex) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return dcfs_error_set(e, errno, "cannot open '%s': %m", path);
	if (flock(fd, LOCK_EX) < 0) {
		r = dcfs_error_set(e, errno, "cannot lock '%s': %m", path);
		close(fd);
		return r;
	}
	return fd;
}

/* The size `ent` adds to a walk on file system `dev`: a regular file's; as with nftw's
 * FTW_MOUNT, nothing on another file system (a file bind-mounted into the tree) counts. */
static uint64_t entry_bytes(const FTSENT *ent, dev_t dev)
{
	bool file = ent->fts_info == FTS_F && S_ISREG(ent->fts_statp->st_mode);
	return file && ent->fts_statp->st_dev == dev ? (uint64_t)ent->fts_statp->st_size : 0;
}

int dcfs_tree_bytes(const char *dir, uint64_t *bytes, dcfs_error *e)
{
	*bytes = 0;
	char *roots[] = {(char *)dir, NULL};
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, NULL);
	if (!fts)
		return dcfs_error_set(e, errno, "cannot measure '%s': %m", dir);
	uint64_t total = 0;
	dev_t dev = 0;
	int err = 0;
	for (;;) {
		errno = 0;
		FTSENT *ent = fts_read(fts);
		if (!ent) {
			err = errno;
			break;
		}
		bool root = ent->fts_level == FTS_ROOTLEVEL;
		if (root && (ent->fts_info == FTS_NS || ent->fts_info == FTS_ERR)) {
			err = ent->fts_errno;
			break;
		}
		if (root)
			dev = ent->fts_statp->st_dev;
		total += entry_bytes(ent, dev); /* unreadable folders below are skipped, as nftw does */
	}
	fts_close(fts);
	if (err == ENOENT)
		return 0; /* no folder: 0 bytes */
	if (err)
		return dcfs_error_set(e, err, "cannot measure '%s': %s", dir, strerror(err));
	*bytes = total;
	return 0;
}

int dcfs_container_measure(dcfs_store *s, const char *id, dcfs_error *e)
{
	_cleanup_free_ char *upper = dcfs_container_path(s, id, "upper");
	if (!upper)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	uint64_t bytes = 0;
	int r = dcfs_tree_bytes(upper, &bytes, e);
	if (r < 0)
		return r;
	return dcfs_container_table_set_upper_bytes(s, id, bytes, e);
}
