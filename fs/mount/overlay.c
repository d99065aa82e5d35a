/* Mounting the overlay of a container root (see overlay.h). Directory redirects and metacopy
 * stay off whatever the kernel's defaults, so the upper directory alone says what changed
 * (whiteouts and opaque directories only) and a snapshot can store it as an ordinary layer. */
#include "overlay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

/* The overlay's root takes the upper directory's mode and owner: a new upper directory gets the
 * lower root's, so the container's / is the image's (not the 0700 of a private folder). An
 * existing one keeps what the container made of it. */
static int make_upper(const char *lower, const char *upper, dcfs_error *e)
{
	struct stat st;
	if (stat(upper, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : dcfs_error_set(e, ENOTDIR, "upper '%s' is not a directory", upper);
	if (errno != ENOENT)
		return dcfs_error_set(e, errno, "cannot stat upper directory '%s': %m", upper);
	if (stat(lower, &st) < 0)
		return dcfs_error_set(e, errno, "cannot stat lower directory '%s': %m", lower);
	_cleanup_free_ char *tmp = NULL;
	if (asprintf(&tmp, "%s.new", upper) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	/* made aside and renamed: a crash never leaves an upper with the wrong attributes */
	if (rmdir(tmp) < 0 && errno != ENOENT)
		return dcfs_error_set(e, errno, "cannot remove '%s': %m", tmp);
	int r = dcfs_mkdir_p(tmp, 0700);
	if (r >= 0 && (chown(tmp, st.st_uid, st.st_gid) < 0 || chmod(tmp, st.st_mode & 07777) < 0 ||
		       rename(tmp, upper) < 0))
		r = -errno;
	if (r < 0)
		return dcfs_error_set(e, r, "cannot create upper directory '%s': %s", upper,
				      strerror(-r));
	return 0;
}

int dcfs_overlay_mount(const char *lower, const char *upper, const char *work, const char *target,
		       dcfs_error *e)
{
	int r = make_upper(lower, upper, e);
	if (r < 0)
		return r;
	r = dcfs_mkdir_p(work, 0700);
	if (r < 0)
		return dcfs_error_set(e, r, "cannot create work directory '%s': %s", work,
				      strerror(-r));
	if (strpbrk(lower, ",:") || strpbrk(upper, ",:") || strpbrk(work, ",:"))
		return dcfs_error_set(e, EINVAL, "overlay directories may not contain ',' or ':'");
	_cleanup_free_ char *opts = NULL;
	if (asprintf(&opts, "lowerdir=%s,upperdir=%s,workdir=%s,xino=off,redirect_dir=off,metacopy=off",
		     lower, upper, work) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (mount("overlay", target, "overlay", 0, opts) < 0) {
		/* older kernels lack xino= and metacopy=; retry without them */
		_cleanup_free_ char *plain = NULL;
		if (asprintf(&plain, "lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=off", lower,
			     upper, work) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		if (mount("overlay", target, "overlay", 0, plain) < 0)
			return dcfs_error_set(e, errno, "cannot mount the overlay at '%s': %m", target);
	}
	return 0;
}
