/* Container records in the catalog and the container's folder in the store (see container.h).
 * The id is 16 random bytes in hex; the name is the folder's base name with a short hash of
 * its full path (and of the configuration file, for a variant: container.h), so that two
 * folders of the same name, or two configurations of one folder, get two containers. */
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "catalog.h"
#include "cleanup.h"
#include "container.h"
#include "devcontainer.h"
#include "image_table.h"
#include "fsutil.h"

/* Fill the containers' `image` with their image's ref (NULL when the image is gone). */
static int image_refs(dcfs_store *s, dcfs_container *list, size_t n, dcfs_error *e)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_(dcfs_image_row_free) dcfs_image_row im = {0};
		int r = dcfs_image_lookup_id(s, list[i].image_id, &im, e);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return dcfs_error_wrap(e, "reading containers");
		list[i].image = im.ref;
		im.ref = NULL;
	}
	return 0;
}

/* The row of the container `found` (its result) and its image's ref. */
static int with_image(dcfs_store *s, int found, dcfs_container *out, dcfs_error *e)
{
	if (found < 0)
		return found;
	int r = image_refs(s, out, 1, e);
	if (r < 0)
		dcfs_container_free(out);
	return r;
}

int dcfs_container_find(dcfs_store *s, const char *folder, dcfs_container *out, dcfs_error *e)
{
	return with_image(s, dcfs_container_table_find(s, folder, NULL, out, e), out, e);
}

int dcfs_container_find_variant(dcfs_store *s, const char *folder, const char *variant,
				dcfs_container *out, dcfs_error *e)
{
	if (!variant)
		return dcfs_container_find(s, folder, out, e);
	return with_image(s, dcfs_container_table_find(s, folder, variant, out, e), out, e);
}

char *dcfs_container_path(dcfs_store *s, const char *id, const char *sub)
{
	/* absolute: these paths go into the bundle and to other processes */
	_cleanup_free_ char *root = realpath(s->root, NULL);
	char *p = NULL;
	if (!root || asprintf(&p, "%s/containers/%s%s%s", root, id, *sub ? "/" : "", sub) < 0)
		return NULL;
	return p;
}

/* /run/dcfs/<store's hash>/<id>: per store, so two stores never share a mount point. Both
 * folders are 0700 (see dcfs_container_workspace_mnt). */
static char *run_dir(dcfs_store *s, const char *id)
{
	_cleanup_free_ char *root = realpath(s->root, NULL);
	if (!root)
		return NULL;
	dcfs_hash h;
	dcfs_hash_buf(root, strlen(root), &h);
	char hex[DCFS_HASH_HEX];
	dcfs_hash_to_hex(&h, hex);
	const char *base = getenv("DCFS_RUN_DIR");
	char *p = NULL;
	if (asprintf(&p, "%s/%.16s/%s", base && *base ? base : "/run/dcfs", hex, id) < 0)
		return NULL;
	return p;
}

/* `dir` made root's alone (0700), also when an older dcfs made it 0711. */
static int make_private(const char *dir, dcfs_error *e)
{
	int r = dcfs_mkdir_p(dir, 0700);
	if (r < 0)
		return dcfs_error_set(e, r, "cannot create '%s': %s", dir, strerror(-r));
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0700) < 0)
		return dcfs_error_set(e, errno, "cannot make '%s' private: %m", dir);
	return 0;
}

/* The workspace view is mounted with allow_other (the container's users reach it through
 * runc's bind mount, which needs no path) and its path is in /proc/self/mounts: the folders
 * above it are root's alone, or a folder under a private parent (/root/proj) would be open
 * to every local user through the view. */
char *dcfs_container_workspace_mnt(dcfs_store *s, const char *id, bool create, dcfs_error *e)
{
	_cleanup_free_ char *dir = run_dir(s, id);
	char *p = NULL;
	if (!dir || asprintf(&p, "%s/workspace", dir) < 0) {
		dcfs_error_set(e, ENOMEM, "out of memory");
		return NULL;
	}
	/* the store's folder (shared by its containers), the container's, then the mount point
	 * (left alone when mounted: its mode is then the user's folder's) */
	char *slash = strrchr(dir, '/');
	*slash = 0;
	int r = create ? make_private(dir, e) : 0;
	*slash = '/';
	if (r >= 0 && create)
		r = make_private(dir, e);
	if (r >= 0 && create && (r = dcfs_mkdir_p(p, 0700)) < 0)
		dcfs_error_set(e, r, "cannot create '%s': %s", p, strerror(-r));
	if (r < 0) {
		free(p);
		return NULL;
	}
	return p;
}

static int make_dirs(dcfs_store *s, const char *id, dcfs_error *e)
{
	/* not "upper": the overlay mount makes it with the image root's mode and owner */
	static const char *const subs[] = {"work", "rootfs", "bundle", "markers"};
	for (size_t i = 0; i < ELEMENTSOF(subs); i++) {
		_cleanup_free_ char *p = dcfs_container_path(s, id, subs[i]);
		if (!p)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		int r = dcfs_mkdir_p(p, 0711);
		if (r < 0)
			return dcfs_error_set(e, r, "cannot create '%s': %s", p, strerror(-r));
	}
	return 0;
}

/* A random id, and the name: the folder's base name and a hash of the folder (of the folder
 * and the configuration file, for a variant). */
static int new_names(const char *folder, const char *variant, char id[33], char **name)
{
	unsigned char raw[16];
	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return -errno;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	_cleanup_free_ char *identity = NULL;
	if (asprintf(&identity, "%s%s%s", folder, variant ? "\n" : "", variant ? variant : "") < 0)
		return -ENOMEM;
	dcfs_hash h;
	dcfs_hash_buf(identity, strlen(identity), &h);
	char hex[DCFS_HASH_HEX];
	dcfs_hash_to_hex(&h, hex);
	_cleanup_free_ char *copy = strdup(folder);
	if (!copy || asprintf(name, "%s-%.8s", basename(copy), hex) < 0)
		return -ENOMEM;
	return 0;
}

int dcfs_container_create(dcfs_store *s, const char *folder, const char *config_file,
			  bool variant, int64_t image_id, const char *engine,
			  const char *engine_host, dcfs_container *out, dcfs_error *e)
{
	char id[33];
	_cleanup_free_ char *name = NULL;
	int r = new_names(folder, variant ? config_file : NULL, id, &name);
	if (r < 0)
		return dcfs_error_set(e, r, "cannot name a container: %s", strerror(-r));
	dcfs_container row = {.id = id, .name = name, .image_id = image_id, .folder = (char *)folder,
			      .config_file = (char *)config_file, .variant = variant,
			      .engine = (char *)engine, .engine_host = (char *)engine_host};
	if ((r = dcfs_container_table_insert(s, &row, e)) < 0)
		return r;
	if ((r = make_dirs(s, id, e)) < 0 ||
	    (r = with_image(s, dcfs_container_table_get(s, id, out, e), out, e)) < 0) {
		_cleanup_error_ dcfs_error ignored = {0}; /* no record of a container not made */
		dcfs_container_delete(s, id, &ignored);
	}
	return r;
}

int dcfs_container_set_state(dcfs_store *s, const char *id, const char *state, dcfs_error *e)
{
	return dcfs_container_table_set_state(s, id, state, e);
}

int dcfs_container_delete(dcfs_store *s, const char *id, dcfs_error *e)
{
	_cleanup_free_ char *dir = dcfs_container_path(s, id, "");
	_cleanup_free_ char *rootfs = dcfs_container_path(s, id, "rootfs");
	_cleanup_free_ char *ws = dcfs_container_workspace_mnt(s, id, false, e);
	_cleanup_free_ char *run = run_dir(s, id);
	_cleanup_free_ char *old_ws = dcfs_container_path(s, id, "workspace"); /* before /run/dcfs */
	_cleanup_free_ char *cow = dcfs_container_path(s, id, "workspace-cow"); /* a prebuild's */
	if (!dir || !rootfs || !ws || !run || !old_ws || !cow)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (dcfs_container_is_mounted(rootfs) || dcfs_container_is_mounted(ws) ||
	    dcfs_container_is_mounted(old_ws) || dcfs_container_is_mounted(cow))
		return dcfs_error_set(e, EBUSY, "container %s is still mounted: not removing '%s'", id,
				      dir);
	_cleanup_(dcfs_container_free) dcfs_container row = {0};
	int r = dcfs_container_table_get(s, id, &row, e);
	if (r >= 0 && dcfs_container_on_engine(&row))
		r = dcfs_container_engine_remove(s, &row, e);
	if (r < 0 && r != -ENOENT)
		return r;
	/* the mount point first: an empty folder, and nothing is mounted there */
	r = dcfs_rm_rf(run);
	if (r < 0 && r != -ENOENT)
		return dcfs_error_set(e, r, "cannot remove '%s': %s", run, strerror(-r));
	r = dcfs_rm_rf(dir);
	if (r < 0)
		return dcfs_error_set(e, r, "cannot remove '%s': %s", dir, strerror(-r));
	return dcfs_container_table_delete(s, id, e);
}

int dcfs_container_list(dcfs_store *s, dcfs_container **out, size_t *n, dcfs_error *e)
{
	int r = dcfs_container_table_list(s, out, n, e);
	if (r >= 0 && (r = image_refs(s, *out, *n, e)) < 0) {
		dcfs_container_list_free(*out, *n);
		*out = NULL, *n = 0;
	}
	return r;
}
