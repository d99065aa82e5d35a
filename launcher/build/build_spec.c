/* Reading a Dockerfile configuration's build properties (see build_spec.h). */
#include "build_spec.h"

#include <string.h>

int dcfs_build_spec_read(const dcfs_devcontainer *d, dcfs_build_spec *out, dcfs_error *e)
{
	(void)d;
	(void)e;
	memset(out, 0, sizeof(*out));
	return 0;
}

void dcfs_build_spec_free(dcfs_build_spec *b)
{
	(void)b;
}
