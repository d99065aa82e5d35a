/* Building an image's merged index (see merged_index.h), layer by layer from the bottom, as
 * overlayfs and the OCI image spec define it:
 *   - a whiteout entry removes the path and everything below it from the layers beneath;
 *   - an opaque directory hides everything below it from the layers beneath;
 *   - a non-directory replacing a directory hides what was below the directory;
 *   - any other entry replaces the one beneath.
 * "Everything below D" is the key range (D || '/', D || '0'): '0' follows '/' in ASCII, so the
 * range holds exactly the paths that start with "D/" and the B-tree answers it directly. */
#include "merged_index.h"

#include "catalog.h"
#include "cleanup.h"
#include "schema_internal.h"

static const char *const steps[] = {
	/* whiteouts: the path itself */
	"DELETE FROM image_index WHERE image_id = ?1 AND path IN"
	" (SELECT path FROM entries WHERE layer_id = ?2 AND type = 'w')",
	/* below whiteouts, opaque directories, and non-directories that replace a directory:
	 * one range scan of the index per such entry */
	"DELETE FROM image_index WHERE image_id = ?1 AND path IN (SELECT ii.path FROM entries e"
	" JOIN image_index ii ON ii.image_id = ?1 AND ii.path > e.path || '/'"
	" AND ii.path < e.path || '0'"
	" WHERE e.layer_id = ?2 AND e.path != '' AND (e.type != 'd' OR e.opaque))",
	/* an opaque root hides everything beneath */
	"DELETE FROM image_index WHERE image_id = ?1 AND path != '' AND EXISTS (SELECT 1 FROM entries"
	" WHERE layer_id = ?2 AND path = '' AND opaque)",
	/* the layer's own entries */
	"INSERT OR REPLACE INTO image_index(image_id, path, layer_id)"
	" SELECT ?1, path, layer_id FROM entries WHERE layer_id = ?2 AND type != 'w'",
};

int dcfs_merged_index_build(sqlite3 *db, int64_t image_id, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *layers = NULL;
	int r = dcfs_catalog_prepare(db, "SELECT layer_id FROM image_layers WHERE image_id = ?1 ORDER BY pos",
				     &layers, e);
	if (r < 0)
		return r;
	sqlite3_stmt *st[4] = {NULL, NULL, NULL, NULL};
	for (int i = 0; i < 4 && r >= 0; i++)
		r = dcfs_catalog_prepare(db, steps[i], &st[i], e);
	int64_t nlayers = 0;
	sqlite3_bind_int64(layers, 1, image_id);
	while (r >= 0 && (r = dcfs_catalog_step(layers, e)) > 0) {
		int64_t layer = sqlite3_column_int64(layers, 0);
		/* The bottom layer has nothing beneath it to hide. */
		for (int i = nlayers ? 0 : 3; i < 4 && r >= 0; i++) {
			sqlite3_bind_int64(st[i], 1, image_id);
			sqlite3_bind_int64(st[i], 2, layer);
			if (sqlite3_step(st[i]) != SQLITE_DONE)
				r = dcfs_catalog_error(db, e, "merging layers");
			sqlite3_reset(st[i]);
		}
		nlayers++;
	}
	for (int i = 0; i < 4; i++)
		sqlite3_finalize(st[i]);
	return r < 0 ? r : 0;
}

/* The schema of the `image_index` table: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_merged_index_schema[] = {
	{1,
		/* The merged index of an image: for each visible path, the layer whose entry it is.
		 * Computed once when the image is recorded (merged_index.c). */
		"CREATE TABLE image_index ("
		"  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
		"  path TEXT NOT NULL,"
		"  layer_id INTEGER NOT NULL REFERENCES layers(id),"
		"  PRIMARY KEY (image_id, path)"
		") WITHOUT ROWID;"
		"CREATE INDEX image_index_layer ON image_index(layer_id);"},
	{0, NULL},
};
