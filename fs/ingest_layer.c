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
	int r = ingest_finish(in, e);
	if (r < 0)
		return r;
	char digest[8 + DCFS_HASH_HEX];
	ingest_layer_digest(in, digest);
	sqlite3 *db = in->store->db;
	r = dcfs_catalog_exec(db, "BEGIN IMMEDIATE", e);
	if (r < 0)
		return r;
	r = ingest_insert_chunks(in, e);
	if (r >= 0)
		r = ingest_insert_layer(in, digest, source, layer_id, e);
	if (r >= 0)
		r = dcfs_catalog_exec(db, "COMMIT", e);
	if (r < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	if (stats)
		*stats = &in->stats;
	return 0;
}
