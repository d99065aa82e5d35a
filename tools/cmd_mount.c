/* dcfs mount: run the FUSE daemon for an image's root view (optionally under a container's
 * overlay) or for a workspace. It detaches once the mount is ready unless -f is given.
 *
 *   dcfs mount [-f] [-d] --image REF MNT                      read-only root view
 *   dcfs mount [-f] [-d] --image REF --upper DIR [--work DIR] MNT   container root (overlay)
 *   dcfs mount [-f] [-d] --workspace HOSTDIR MNT              a host folder, passed through
 */
#include <getopt.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog.h"
#include "cleanup.h"
#include "cli.h"
#include "fsutil.h"
#include "root_view.h"
#include "image_list.h"
#include "mount.h"
#include "overlay.h"
#include "ref.h"
#include "workspace_fs.h"

typedef struct overlay_plan {
	const char *upper, *work, *target;
	char *lower; /* the hidden FUSE mount point under STORE/mnt/ */
} overlay_plan;

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

/* The mount point's real path, after clearing a stale mount a killed daemon left there. */
static char *resolve_mountpoint(dcfs_cli *cli, const char *mnt)
{
	char *target = realpath(mnt, NULL);
	if (!target && dcfs_mount_is_stale(mnt)) {
		dcfs_umount(mnt, NULL);
		target = realpath(mnt, NULL);
	}
	if (!target)
		dcfs_error_set(&cli->err, errno, "mount point '%s': %m", mnt);
	return target;
}

static char *canonical_ref(const char *text, dcfs_error *e)
{
	dcfs_ref ref;
	if (dcfs_ref_parse(text, &ref, e) < 0)
		return NULL;
	char *name = dcfs_ref_name(&ref);
	dcfs_ref_free(&ref);
	if (!name)
		dcfs_error_set(e, ENOMEM, "out of memory");
	return name;
}

static int mount_image(dcfs_cli *cli, const char *ref_text, const char *upper, const char *work,
		       const char *mnt, bool fg, bool debug)
{
	_cleanup_free_ char *ref = canonical_ref(ref_text, &cli->err);
	if (!ref)
		return 1;
	_cleanup_free_ char *target = resolve_mountpoint(cli, mnt);
	if (!target)
		return 1;
	_cleanup_store_ dcfs_store *s = NULL;
	if (cli_open_store(cli, DCFS_STORE_READ, &s) < 0)
		return 1;
	dcfs_root_view *fs = NULL;
	if (dcfs_root_view_new(s, ref, &fs, &cli->err) < 0)
		return 1;

	dcfs_mount_opts o = {
		.mountpoint = target,
		.subtype = "dcfs",
		.foreground = fg,
		.debug = debug,
		.read_only = true,
		.allow_other = true,
		.default_permissions = true,
	};
	_cleanup_free_ char *fsname = NULL;
	if (asprintf(&fsname, "dcfs:%s", ref) >= 0)
		o.fsname = fsname;
	overlay_plan plan = {.upper = upper, .work = work, .target = target};
	_cleanup_free_ char *work_default = NULL;
	if (upper) {
		/* A container root: the image view goes to a hidden mount point, overlayfs on top. */
		if (!work) {
			_cleanup_free_ char *copy = strdup(upper);
			if (!copy || asprintf(&work_default, "%s/work", dirname(copy)) < 0)
				return dcfs_error_set(&cli->err, ENOMEM, "out of memory"), 1;
			plan.work = work_default;
		}
		plan.lower = hidden_lower(s, target);
		if (!plan.lower)
			return dcfs_error_set(&cli->err, ENOMEM, "out of memory"), 1;
		int r = dcfs_mkdir_p(plan.lower, 0700);
		if (r < 0)
			return dcfs_error_set(&cli->err, r, "cannot create '%s': %s", plan.lower,
					      strerror(-r)), 1;
		if (dcfs_mount_is_stale(target))
			dcfs_umount(target, NULL);
		o.mountpoint = plan.lower;
		o.ready = stack_overlay;
		o.hook_data = &plan;
	}
	int64_t image_id = 0;
	dcfs_catalog_int(s->db, "SELECT id FROM images WHERE ref = ?1", ref, &image_id, NULL);
	int pin = dcfs_image_pin(s, image_id, &cli->err);
	if (pin < 0)
		return 1;
	/* The daemon reopens the catalog only if it must quarantine a chunk. */
	sqlite3_close(s->db);
	s->db = NULL;
	int r = dcfs_mount_serve(dcfs_root_view_ops(), fs, &o, &cli->err);
	if (upper && r >= 0)
		dcfs_umount(target, NULL);
	close(pin);
	dcfs_root_view_free(fs);
	free(plan.lower);
	return r < 0 ? 1 : 0;
}

static int mount_workspace(dcfs_cli *cli, const char *hostdir, const char *mnt, bool fg, bool debug)
{
	_cleanup_free_ char *target = resolve_mountpoint(cli, mnt);
	if (!target)
		return 1;
	/* the workspace's sums live in the store's catalog: make sure there is one */
	int r = dcfs_mkdir_p(cli->store_path, 0700);
	if (r < 0)
		return dcfs_error_set(&cli->err, r, "cannot create store '%s': %s", cli->store_path,
				      strerror(-r)), 1;
	_cleanup_store_ dcfs_store *s = NULL;
	if (cli_open_store(cli, DCFS_STORE_READ, &s) < 0)
		return 1;
	sqlite3_close(s->db); /* the daemon opens its own catalog connection after detaching */
	s->db = NULL;
	_cleanup_(dcfs_workspace_fs_freep) dcfs_workspace_fs *ws = NULL;
	if (dcfs_workspace_fs_new(hostdir, s, &ws, &cli->err) < 0)
		return 1;
	dcfs_mount_opts o = {
		.mountpoint = target,
		.fsname = "dcfs-workspace",
		.subtype = "dcfs",
		.foreground = fg,
		.debug = debug,
		.allow_other = true,
		.default_permissions = true,
		.prepare = dcfs_workspace_fs_ready,
		.stopping = dcfs_workspace_fs_stopping,
		.hook_data = ws,
	};
	return dcfs_mount_serve(dcfs_workspace_fs_ops(), ws, &o, &cli->err) < 0 ? 1 : 0;
}

int cmd_mount(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {
		{"image", required_argument, NULL, 'i'},  {"upper", required_argument, NULL, 'u'},
		{"work", required_argument, NULL, 'w'},   {"workspace", required_argument, NULL, 'W'},
		{"foreground", no_argument, NULL, 'f'},   {"debug", no_argument, NULL, 'd'},
		{0},
	};
	const char *image = NULL, *upper = NULL, *work = NULL, *workspace = NULL;
	bool fg = false, debug = false;
	int c;
	while ((c = cli_getopt(cli, argc, argv, "fd", opts)) != -1) {
		switch (c) {
		case 'i': image = optarg; break;
		case 'u': upper = optarg; break;
		case 'w': work = optarg; break;
		case 'W': workspace = optarg; break;
		case 'f': fg = true; break;
		case 'd': debug = fg = true; break;
		default: return cli_usage(cli, NULL);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one mount point");
	if (!!image + !!workspace != 1)
		return cli_usage(cli, "give exactly one of --image and --workspace");
	if ((upper || work) && !image)
		return cli_usage(cli, "--upper and --work go with --image");
	if (work && !upper)
		return cli_usage(cli, "--work needs --upper");
	if (workspace)
		return mount_workspace(cli, workspace, argv[optind], fg, debug);
	return mount_image(cli, image, upper, work, argv[optind], fg, debug);
}
