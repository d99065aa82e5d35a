/* The catalog's migrations: each version's steps, table by table, from the modules that own the
 * tables (schema_internal.h). PRAGMA user_version records where a catalog stands; version N's
 * steps turn a version N-1 catalog into a version N one.
 *
 * The sums that `dcfs du` reads live in the `sums` table and are kept by triggers, each defined
 * with the table whose rows move it, so every change to a row and to the sums it moves commits in
 * the same transaction. See doc/store.md. */
#include "catalog.h"
#include "schema_internal.h"

/* The newest version any owner's steps reach (test_catalog checks it). */
const int dcfs_catalog_version = 10;

const dcfs_schema_step *const dcfs_catalog_schema_owners[] = {
	dcfs_catalog_sums_schema,
	dcfs_chunk_table_schema,
	dcfs_blob_table_schema,
	dcfs_layer_table_schema,
	dcfs_image_table_schema,
	dcfs_merged_index_schema,
	dcfs_container_table_schema,
	dcfs_volume_table_schema,
	dcfs_workspace_record_schema,
	dcfs_snapshot_table_schema,
	dcfs_pushed_blob_table_schema,
	dcfs_build_table_schema,
	dcfs_feature_table_schema,
	NULL,
};

int dcfs_catalog_migrate_step(sqlite3 *db, int version, dcfs_error *e)
{
	for (size_t i = 0; dcfs_catalog_schema_owners[i]; i++)
		for (const dcfs_schema_step *st = dcfs_catalog_schema_owners[i]; st->version; st++) {
			if (st->version != version)
				continue;
			int r = dcfs_catalog_exec(db, st->sql, e);
			if (r < 0)
				return r;
		}
	return 0;
}
