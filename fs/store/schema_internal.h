/* The catalog's schema, owned table by table: each module that owns a table (the fs/store/ files named for them,
 * workspace_record.c, merged_index.c, catalog.c for `sums`) defines its tables' steps, what
 * catalog version N adds to them, next to the SQL that reads and writes them; catalog_schema.c
 * runs the steps of each version, owner by owner, when it migrates a catalog. Private to
 * fs/store. */
#pragma once

#include <sqlite3.h>

#include "error.h"

typedef struct dcfs_schema_step {
	int version; /* the catalog version this step belongs to; 0 ends a list */
	const char *sql;
} dcfs_schema_step;

extern const dcfs_schema_step dcfs_catalog_sums_schema[];
extern const dcfs_schema_step dcfs_chunk_table_schema[];
extern const dcfs_schema_step dcfs_blob_table_schema[];
extern const dcfs_schema_step dcfs_layer_table_schema[];
extern const dcfs_schema_step dcfs_image_table_schema[];
extern const dcfs_schema_step dcfs_merged_index_schema[];
extern const dcfs_schema_step dcfs_container_table_schema[];
extern const dcfs_schema_step dcfs_volume_table_schema[];
extern const dcfs_schema_step dcfs_workspace_record_schema[];
extern const dcfs_schema_step dcfs_snapshot_table_schema[];
extern const dcfs_schema_step dcfs_pushed_blob_table_schema[];
extern const dcfs_schema_step dcfs_build_table_schema[];
extern const dcfs_schema_step dcfs_feature_table_schema[];

/* Every owner's step list, in the order their steps of one version run; NULL-terminated. */
extern const dcfs_schema_step *const dcfs_catalog_schema_owners[];

/* Run the steps of `version` (turning a version-1 catalog into a `version` one), inside the
 * caller's transaction. */
int dcfs_catalog_migrate_step(sqlite3 *db, int version, dcfs_error *e);
