/* A feature published as a tarball at a URL (see feature_fetch_internal.h). */
#include "feature_fetch_internal.h"

int dcfs_feature_fetch_url(const char *url, int tmp_fd, int dest_fd,
			   char digest[DCFS_FEATURE_DIGEST_LEN], dcfs_error *e)
{
	(void)tmp_fd, (void)dest_fd, (void)digest;
	return dcfs_error_set(e, ENOTSUP, "%s: tarball features are not written yet", url);
}
