/* Making a prebuild (see prebuild.h). The prebuild's container is its own (up.c names it
 * after the folder and the key), so the folder's dev container, running or not, is left
 * alone; it is stopped before its upper directory is read and removed afterwards, also when
 * something failed. */
#include "prebuild.h"

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "container.h"
#include "container_snapshot.h"
#include "prebuild_queue.h"
#include "prebuild_workspace.h"
#include "snapshot.h"
#include "up.h"

static int snapshot_and_remove(dcfs_store *s, const dcfs_up_result *up,
			       const dcfs_prebuild_opts *o, dcfs_prebuild_result *res,
			       dcfs_error *e)
{
	_cleanup_free_ char *identity = NULL;
	if (asprintf(&identity, "%s/prebuild-%.12s", up->folder, up->key.key) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_(dcfs_container_free) dcfs_container c = {0};
	/* the container's own lock, and the very container `up` made */
	_cleanup_close_ int lock = dcfs_container_lock(s, identity, e);
	if (lock < 0)
		return lock;
	int r = dcfs_container_find(s, identity, &c, e);
	if (r == -ENOENT || (r == 0 && strcmp(c.id, up->id)))
		return dcfs_error_set(e, ENOENT, "the prebuild container of '%s' is gone", up->folder);
	if (r < 0)
		return r;
	r = dcfs_container_stop(s, &c, 10000, e);
	if (r >= 0) {
		dcfs_container_snapshot_opts so = {.origin = "prebuild",
						   .stage = "updateContentCommand",
						   .folder = up->folder};
		r = dcfs_container_snapshot(s, &c, &so, &res->ref, &res->stats, e);
	}
	if (r >= 0)
		r = dcfs_snapshot_retain(s, up->config_file, o->keep, &res->released, e);
	dcfs_error ignored = {0};
	int d = dcfs_container_stop(s, &c, 10000, r < 0 ? &ignored : e);
	if (d >= 0)
		d = dcfs_container_delete(s, c.id, r < 0 ? &ignored : e);
	if (d >= 0)
		d = dcfs_prebuild_workspace_forget(s, c.id, r < 0 ? &ignored : e);
	dcfs_error_clear(&ignored);
	if (r >= 0 && d < 0) /* the prebuild is stored all the same */
		return dcfs_error_wrap(e, "prebuild %s is stored, but removing its container failed",
				       res->ref);
	return r < 0 ? r : d;
}

/* A failed `up`: remove what it left of the prebuild container. */
static void remove_leftover(dcfs_store *s, const char *folder, const char *key)
{
	_cleanup_free_ char *identity = NULL;
	_cleanup_(dcfs_container_free) dcfs_container c = {0};
	dcfs_error ignored = {0};
	if (asprintf(&identity, "%s/prebuild-%.12s", folder, key) >= 0 &&
	    dcfs_container_find(s, identity, &c, &ignored) == 0 &&
	    dcfs_container_stop(s, &c, 10000, &ignored) >= 0 &&
	    dcfs_container_delete(s, c.id, &ignored) >= 0)
		dcfs_prebuild_workspace_forget(s, c.id, &ignored);
	dcfs_error_clear(&ignored);
}

int dcfs_prebuild(dcfs_store *s, const dcfs_prebuild_opts *o, dcfs_prebuild_result *res,
		  dcfs_error *e)
{
	*res = (dcfs_prebuild_result){0};
	if (o->keep < 1 || o->keep > 5)
		return dcfs_error_set(e, EINVAL, "--keep %d: keep 1 to 5 prebuilds", o->keep);
	dcfs_up_opts uo = {.folder = o->folder, .config_file = o->config_file, .prebuild = true,
			   .builder = o->builder, .report = o->report};
	_cleanup_free_ char *config_file = NULL, *image = NULL;
	int r = dcfs_up_key(s, &uo, &res->key, &config_file, &image, e);
	if (r < 0)
		return r;
	_cleanup_close_ int run = -1;
	if ((r = dcfs_prebuild_queue_wait(s, res->key.key, &run, e)) < 0)
		return r;
	if (r == 0) {
		res->collapsed = true;
		return 0;
	}
	dcfs_up_result up;
	uo.expect_key = res->key.key; /* the key this request queued under */
	if ((r = dcfs_up(s, &uo, &up, e)) < 0) {
		_cleanup_free_ char *folder = dcfs_host_path_absolute(o->folder ? o->folder : ".");
		if (folder)
			remove_leftover(s, folder, res->key.key);
		return r;
	}
	r = snapshot_and_remove(s, &up, o, res, e);
	dcfs_up_result_free(&up);
	return r;
}

void dcfs_prebuild_result_free(dcfs_prebuild_result *res)
{
	free(res->ref);
	*res = (dcfs_prebuild_result){0};
}
