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
const int dcfs_catalog_version = 7;

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

/* PENDING OWNERS: these tables' owners are being written; their steps move there. */

/* The schema of the `chunks` table: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_chunk_table_schema[] = {
	{1,
		/* Chunks: at most 1 MiB of plain bytes, stored as one zstd frame in chunks/ab/<sha256>. */
		"CREATE TABLE chunks ("
		"  id INTEGER PRIMARY KEY,"
		"  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
		"  plain_size INTEGER NOT NULL CHECK (plain_size BETWEEN 1 AND 1048576),"
		"  stored_size INTEGER NOT NULL CHECK (stored_size > 0),"
		"  refs INTEGER NOT NULL DEFAULT 0,"        /* extents pointing into it */
		"  quarantined INTEGER NOT NULL DEFAULT 0"  /* file moved to quarantine/ by fsck */
		");"
		/* chunks -> sums */
		"CREATE TRIGGER chunks_ins AFTER INSERT ON chunks BEGIN"
		"  UPDATE sums SET value = value + CASE name"
		"    WHEN 'chunks' THEN 1 WHEN 'chunk_plain' THEN NEW.plain_size"
		"    WHEN 'chunk_stored' THEN NEW.stored_size"
		"    WHEN 'chunks_unref' THEN NEW.refs = 0"
		"    WHEN 'chunk_unref_stored' THEN CASE WHEN NEW.refs = 0 THEN NEW.stored_size ELSE 0 END END"
		"  WHERE name IN ('chunks','chunk_plain','chunk_stored','chunks_unref','chunk_unref_stored');"
		"END;"
		"CREATE TRIGGER chunks_del AFTER DELETE ON chunks BEGIN"
		"  UPDATE sums SET value = value - CASE name"
		"    WHEN 'chunks' THEN 1 WHEN 'chunk_plain' THEN OLD.plain_size"
		"    WHEN 'chunk_stored' THEN OLD.stored_size"
		"    WHEN 'chunks_unref' THEN OLD.refs = 0"
		"    WHEN 'chunk_unref_stored' THEN CASE WHEN OLD.refs = 0 THEN OLD.stored_size ELSE 0 END END"
		"  WHERE name IN ('chunks','chunk_plain','chunk_stored','chunks_unref','chunk_unref_stored');"
		"END;"
		/* Most updates move refs from n to n+1, which changes no sum: skip those. */
		"CREATE TRIGGER chunks_upd AFTER UPDATE OF refs, plain_size, stored_size ON chunks"
		"  WHEN (NEW.refs = 0) != (OLD.refs = 0) OR NEW.plain_size != OLD.plain_size"
		"  OR NEW.stored_size != OLD.stored_size BEGIN"
		"  UPDATE sums SET value = value + CASE name"
		"    WHEN 'chunk_plain' THEN NEW.plain_size - OLD.plain_size"
		"    WHEN 'chunk_stored' THEN NEW.stored_size - OLD.stored_size"
		"    WHEN 'chunks_unref' THEN (NEW.refs = 0) - (OLD.refs = 0)"
		"    WHEN 'chunk_unref_stored' THEN CASE WHEN NEW.refs = 0 THEN NEW.stored_size ELSE 0 END"
		"                                 - CASE WHEN OLD.refs = 0 THEN OLD.stored_size ELSE 0 END END"
		"  WHERE name IN ('chunk_plain','chunk_stored','chunks_unref','chunk_unref_stored');"
		"END;"},
	{0, NULL},
};

/* The schema of the `blobs` and `extents` tables: a step per catalog version, run by catalog_schema.c. */
const dcfs_schema_step dcfs_blob_table_schema[] = {
	{1,
		/* Blobs: distinct file contents. A file's bytes are a list of extents into chunks. */
		"CREATE TABLE blobs ("
		"  id INTEGER PRIMARY KEY,"
		"  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
		"  size INTEGER NOT NULL,"
		"  refs INTEGER NOT NULL DEFAULT 0"          /* entries whose content it is */
		");"
		"CREATE TABLE extents ("
		"  blob_id INTEGER NOT NULL REFERENCES blobs(id) ON DELETE CASCADE,"
		"  file_off INTEGER NOT NULL,"
		"  chunk_id INTEGER NOT NULL REFERENCES chunks(id),"
		"  chunk_off INTEGER NOT NULL,"
		"  len INTEGER NOT NULL CHECK (len > 0),"
		"  PRIMARY KEY (blob_id, file_off)"
		") WITHOUT ROWID;"
		"CREATE INDEX extents_chunk ON extents(chunk_id);"
		/* extents -> chunk references */
		"CREATE TRIGGER extents_ins AFTER INSERT ON extents BEGIN"
		"  UPDATE chunks SET refs = refs + 1 WHERE id = NEW.chunk_id;"
		"END;"
		"CREATE TRIGGER extents_del AFTER DELETE ON extents BEGIN"
		"  UPDATE chunks SET refs = refs - 1 WHERE id = OLD.chunk_id;"
		"END;"
		/* blobs -> sums */
		"CREATE TRIGGER blobs_ins AFTER INSERT ON blobs BEGIN"
		"  UPDATE sums SET value = value + CASE name WHEN 'blobs' THEN 1 ELSE NEW.size END"
		"  WHERE name IN ('blobs','blob_bytes');"
		"END;"
		"CREATE TRIGGER blobs_del AFTER DELETE ON blobs BEGIN"
		"  UPDATE sums SET value = value - CASE name WHEN 'blobs' THEN 1 ELSE OLD.size END"
		"  WHERE name IN ('blobs','blob_bytes');"
		"END;"},
	/* v5: blob keys are made in separate domains (layer_writer.c: blob_key). Keys made before could
	 * collide across kinds (a small file's bytes equal to a large file's chunk list), so they are
	 * retired: each becomes 'legacy-key' and its id, 32 bytes no SHA-256 reaches, which no new key
	 * matches. An old content is found again by chunk name (its large files cost no new chunk
	 * bytes) and gets a new key on its next import. One pass over the blobs, once. */
	{5,
		"UPDATE blobs SET hash = CAST(printf('legacy-key%022d', id) AS BLOB);"},
	{0, NULL},
};


