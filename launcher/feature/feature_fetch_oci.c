/* A feature published as an OCI artifact (see feature_fetch_internal.h). */
#include "feature_fetch_internal.h"

int dcfs_feature_fetch_oci(const char *reference, bool insecure, int tmp_fd, int dest_fd,
			   char digest[DCFS_FEATURE_DIGEST_LEN], dcfs_error *e)
{
	(void)insecure, (void)tmp_fd, (void)dest_fd, (void)digest;
	return dcfs_error_set(e, ENOTSUP, "%s: OCI features are not written yet", reference);
}
