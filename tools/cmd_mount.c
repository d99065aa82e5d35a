/* dcfs mount: run the FUSE daemon for an image's root view (optionally under a container's
 * overlay; fs/view/image_mount.h) or for a workspace. It detaches once the mount is ready
 * unless -f is given. This file parses the options and reports; the mounting is fs/'s.
 *
 *   dcfs mount [-f] [-d] --image REF MNT                      read-only root view
 *   dcfs mount [-f] [-d] --image REF --upper DIR [--work DIR] MNT   container root (overlay)
 *   dcfs mount [-f] [-d] --workspace HOSTDIR MNT              a host folder, passed through
 */
#include <getopt.h>
#include <stdlib.h>

#include "catalog.h"
#include "cleanup.h"
#include "cli.h"
#include "image_mount.h"
#include "mount.h"
#include "ref.h"
#include "workspace_fs.h"

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
	dcfs_store *s = NULL;
	if (cli_store(cli, &s) < 0)
		return 1;
	dcfs_image_mount_opts o = {.ref = ref, .target = target, .upper = upper, .work = work,
				   .foreground = fg, .debug = debug};
	return dcfs_image_mount(s, &o, &cli->err) < 0 ? 1 : 0;
}

static int mount_workspace(dcfs_cli *cli, const char *hostdir, const char *mnt, bool fg, bool debug)
{
	_cleanup_free_ char *target = resolve_mountpoint(cli, mnt);
	if (!target)
		return 1;
	/* the workspace's sums live in the store's catalog: make sure there is one */
	cli->store_needs |= DCFS_CMD_STORE_CREATE;
	dcfs_store *s = NULL;
	if (cli_store(cli, &s) < 0)
		return 1;
	dcfs_catalog_close(&s->db); /* the daemon opens its own catalog connection after detaching */
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
		.killpriv_v2 = true,
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
