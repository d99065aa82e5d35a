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
#include "image_table.h"
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
	_cleanup_free_ int64_t *layers = NULL;
	size_t nlayers = 0;
	int r = dcfs_image_layers_get(db, image_id, 0, &layers, &nlayers, e);
	if (r < 0)
		return r;
	sqlite3_stmt *st[4] = {NULL, NULL, NULL, NULL};
	for (int i = 0; i < 4 && r >= 0; i++)
		r = dcfs_catalog_prepare(db, steps[i], &st[i], e);
	for (size_t k = 0; r >= 0 && k < nlayers; k++) {
		/* The bottom layer has nothing beneath it to hide. */
		for (int i = k ? 0 : 3; i < 4 && r >= 0; i++) {
			sqlite3_bind_int64(st[i], 1, image_id);
			sqlite3_bind_int64(st[i], 2, layers[k]);
			if (sqlite3_step(st[i]) != SQLITE_DONE)
				r = dcfs_catalog_error(db, e, "merging layers");
			sqlite3_reset(st[i]);
		}
	}
	for (int i = 0; i < 4; i++)
		sqlite3_finalize(st[i]);
	return r < 0 ? r : 0;
}

int dcfs_merged_entries_open(dcfs_merged_entries *it, sqlite3 *db, int64_t image_id,
			     dcfs_error *e)
{
	*it = (dcfs_merged_entries){0};
	int r = dcfs_catalog_prepare(db,
				     "SELECT " DCFS_ENTRY_ROW_COLUMNS("e.") " FROM image_index ii"
				     " JOIN entries e ON e.layer_id = ii.layer_id AND e.path = ii.path"
				     " WHERE ii.image_id = ?1 ORDER BY ii.path",
				     &it->st, e);
	if (r >= 0)
		sqlite3_bind_int64(it->st, 1, image_id);
	return r;
}

int dcfs_merged_entries_next(dcfs_merged_entries *it, dcfs_entry_row *row, dcfs_error *e)
{
	int r = dcfs_catalog_step(it->st, e);
	if (r > 0)
		dcfs_entry_row_read(it->st, row); /* the entry's path is the index's: they join on it */
	return r;
}

void dcfs_merged_entries_free(dcfs_merged_entries *it)
{
	sqlite3_finalize(it->st);
	it->st = NULL;
}

static const char drop_dangling_sql[] =
	"DELETE FROM image_index WHERE image_id NOT IN (SELECT id FROM images)"
	" OR layer_id NOT IN (SELECT id FROM layers);";

int dcfs_merged_index_drop_dangling(sqlite3 *db, dcfs_error *e)
{
	return dcfs_catalog_exec(db, drop_dangling_sql, e);
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
