/* Committing a layer without an image (see dcfs_ingest_commit_layer in ingest.h): the first half
 * of ingest_commit.c's commit, for images made of many layers (a registry pull), whose image is
 * then recorded by image_record.c. */
#include "ingest.h"

#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "ingest_internal.h"

int dcfs_ingest_commit_layer(dcfs_ingest *in, const char *source, int64_t *layer_id,
			     const dcfs_ingest_stats **stats, dcfs_error *e)
{
	int r = ingest_commit_layer(in, source, NULL, NULL, NULL, layer_id, e);
	if (r < 0)
		return r;
	if (stats)
		*stats = &in->stats;
	return 0;
}
