/* A feature's tarball unpacked into the store (see feature_fetch_internal.h). */
#include "feature_fetch_internal.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "cleanup.h"

bool dcfs_feature_unpacked(int dest_fd, const char *name)
{
	_cleanup_close_ int fd = openat(dest_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	return fd >= 0 && fstatat(fd, "devcontainer-feature.json", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode);
}

int dcfs_feature_unpack(const dcfs_feature_stream *in, int tmp_fd, int dest_fd, const char *name,
			dcfs_error *e)
{
	(void)tmp_fd, (void)dest_fd, (void)name;
	return dcfs_error_set(e, ENOTSUP, "%s: unpacking is not written yet", in->what);
}
