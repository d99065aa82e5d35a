/* Committing a layer without an image (see dcfs_layer_writer_commit_layer in layer_writer.h): the first half
 * of layer_writer_commit.c's commit, for images made of many layers (a registry pull), whose image is
 * then recorded by image_record.c. */
#include "layer_writer.h"

#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "layer_writer_internal.h"

int dcfs_layer_writer_commit_layer(dcfs_layer_writer *in, const char *source, int64_t *layer_id,
			     const dcfs_layer_writer_stats **stats, dcfs_error *e)
{
	int r = ingest_commit_layer(in, source, NULL, NULL, NULL, layer_id, e);
	if (r < 0)
		return r;
	if (stats)
		*stats = &in->stats;
	return 0;
}
