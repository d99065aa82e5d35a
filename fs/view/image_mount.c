/* An image's root view mounted, alone or under an overlay (image_mount.h). */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "cleanup.h"
#include "fsutil.h"
#include "hash.h"
#include "image_list.h"
#include "image_mount.h"
#include "image_table.h"
#include "mount.h"
#include "overlay.h"
#include "root_view.h"

typedef struct overlay_plan {
	const char *upper, *work, *target;
	char *lower;        /* the hidden FUSE mount point under STORE/mnt/ */
	char *work_default; /* "work" beside upper, when no work folder was given */
} overlay_plan;

static void overlay_plan_free(overlay_plan *p)
{
	free(p->lower);
	free(p->work_default);
}

static void root_view_freep(dcfs_root_view **fs)
{
	dcfs_root_view_free(*fs);
}

static int stack_overlay(struct fuse_session *se, void *userdata, dcfs_error *e)
{
	(void)se;
	overlay_plan *p = userdata;
	return dcfs_overlay_mount(p->lower, p->upper, p->work, p->target, e);
}

/* The hidden lower mount point of an overlay at `target`: STORE/mnt/<sha256(target)[:16]>. */
static char *hidden_lower(dcfs_store *s, const char *target)
{
	dcfs_hash h;
	dcfs_hash_buf(target, strlen(target), &h);
	char hex[DCFS_HASH_HEX];
	dcfs_hash_to_hex(&h, hex);
	char *path = NULL;
	if (asprintf(&path, "%s/mnt/%.16s", s->root, hex) < 0)
		return NULL;
	return path;
}

/* A container root: the view goes to a hidden mount point, and overlayfs on top of it at the
 * target once the view serves. */
static int plan_overlay(dcfs_store *s, const dcfs_image_mount_opts *o, overlay_plan *p,
			dcfs_mount_opts *mo, dcfs_error *e)
{
	*p = (overlay_plan){.upper = o->upper, .work = o->work, .target = o->target};
	if (!p->work) {
		_cleanup_free_ char *copy = strdup(o->upper);
		if (!copy || asprintf(&p->work_default, "%s/work", dirname(copy)) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		p->work = p->work_default;
	}
	p->lower = hidden_lower(s, o->target);
	if (!p->lower)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int r = dcfs_mkdir_p(p->lower, 0700);
	if (r < 0)
		return dcfs_error_set(e, r, "cannot create '%s': %s", p->lower, strerror(-r));
	if (dcfs_mount_is_stale(o->target))
		dcfs_umount(o->target, NULL);
	mo->mountpoint = p->lower;
	mo->ready = stack_overlay;
	mo->hook_data = p;
	return 0;
}

int dcfs_image_mount(dcfs_store *s, const dcfs_image_mount_opts *o, dcfs_error *e)
{
	_cleanup_(root_view_freep) dcfs_root_view *fs = NULL;
	int r = dcfs_root_view_new(s, o->ref, &fs, e);
	if (r < 0)
		return r;
	dcfs_mount_opts mo = {
		.mountpoint = o->target,
		.subtype = "dcfs",
		.foreground = o->foreground,
		.debug = o->debug,
		.read_only = true,
		.allow_other = true,
		.default_permissions = true,
	};
	_cleanup_free_ char *fsname = NULL;
	if (asprintf(&fsname, "dcfs:%s", o->ref) >= 0)
		mo.fsname = fsname;
	_cleanup_(overlay_plan_free) overlay_plan plan = {0};
	if (o->upper && (r = plan_overlay(s, o, &plan, &mo, e)) < 0)
		return r;
	_cleanup_(dcfs_image_row_free) dcfs_image_row im = {0};
	dcfs_image_lookup(s, o->ref, &im, NULL); /* the view found it: only its id is wanted */
	_cleanup_close_ int pin = dcfs_image_pin(s, im.id, e);
	if (pin < 0)
		return pin;
	/* The daemon reopens the catalog only if it must quarantine a chunk. */
	dcfs_catalog_close(&s->db);
	r = dcfs_mount_serve(dcfs_root_view_ops(), fs, &mo, e);
	if (o->upper && r >= 0)
		dcfs_umount(o->target, NULL);
	return r;
}
