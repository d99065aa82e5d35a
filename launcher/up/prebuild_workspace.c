/* Mounting a prebuild's copy-on-write workspace (see prebuild_workspace.h); container_ops.c
 * unmounts it when the container stops, after the workspace view that serves it. */
#include "prebuild_workspace.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "container.h"
#include "fsutil.h"
#include "overlay.h"
#include "workspace_record.h"

int dcfs_prebuild_workspace_mount(dcfs_store *s, const char *id, const char *folder,
				  char **served, dcfs_error *e)
{
	*served = NULL;
	_cleanup_free_ char *upper = dcfs_container_path(s, id, DCFS_WORKSPACE_UPPER);
	_cleanup_free_ char *work = dcfs_container_path(s, id, DCFS_WORKSPACE_WORK);
	_cleanup_free_ char *cow = dcfs_container_path(s, id, DCFS_WORKSPACE_COW);
	if (!upper || !work || !cow)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (!dcfs_container_is_mounted(cow)) {
		int r = dcfs_mkdir_p(cow, 0700);
		if (r < 0)
			return dcfs_error_set(e, r, "cannot create '%s': %s", cow, strerror(-r));
		r = dcfs_overlay_mount(folder, upper, work, cow, e);
		if (r < 0)
			return dcfs_error_wrap(e, "the prebuild's copy-on-write view of '%s'", folder);
	}
	*served = TAKE_PTR(cow);
	return 0;
}

int dcfs_prebuild_workspace_forget(dcfs_store *s, const char *id, dcfs_error *e)
{
	_cleanup_free_ char *cow = dcfs_container_path(s, id, DCFS_WORKSPACE_COW);
	if (!cow)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	for (int i = 0; i < 50; i++) { /* the daemon's last write: in_use = 0 */
		int r = dcfs_workspace_record_in_use(s->db, cow, e);
		if (r < 0)
			return r;
		if (!r)
			break;
		nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
	}
	return dcfs_workspace_record_forget(s->db, cow, e);
}
