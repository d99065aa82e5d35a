/* Mounting the overlay of a container root (see overlay.h). Directory redirects and metacopy
 * stay off whatever the kernel's defaults, so the upper directory alone says what changed
 * (whiteouts and opaque directories only) and a snapshot can store it as an ordinary layer. */
#include "overlay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fsutil.h"

int dcfs_overlay_mount(const char *lower, const char *upper, const char *work, const char *target,
		       dcfs_error *e)
{
	if (dcfs_mkdir_p(upper, 0755) < 0)
		return dcfs_error_set(e, errno, "cannot create upper directory '%s': %m", upper);
	if (dcfs_mkdir_p(work, 0700) < 0)
		return dcfs_error_set(e, errno, "cannot create work directory '%s': %m", work);
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
