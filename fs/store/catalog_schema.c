/* The catalog's schema, one SQL script per version. Version N's script turns a version N-1
 * catalog into a version N one; PRAGMA user_version records where a catalog stands.
 *
 * The sums that `dcfs du` reads live in the `sums` table and are kept by triggers, so every
 * change to a row and to the sums it moves commits in the same transaction. See doc/store.md. */
#include "catalog.h"

static const char schema_v1[] =
	/* Chunks: at most 1 MiB of plain bytes, stored as one zstd frame in chunks/ab/<sha256>. */
	"CREATE TABLE chunks ("
	"  id INTEGER PRIMARY KEY,"
	"  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	"  plain_size INTEGER NOT NULL CHECK (plain_size BETWEEN 1 AND 1048576),"
	"  stored_size INTEGER NOT NULL CHECK (stored_size > 0),"
	"  refs INTEGER NOT NULL DEFAULT 0,"        /* extents pointing into it */
	"  quarantined INTEGER NOT NULL DEFAULT 0"  /* file moved to quarantine/ by fsck */
	");"
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
	/* Layers: a file index each. */
	"CREATE TABLE layers ("
	"  id INTEGER PRIMARY KEY,"
	"  digest TEXT NOT NULL UNIQUE,"   /* sha256 of the canonical index */
	"  source TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  entries INTEGER NOT NULL,"
	"  files INTEGER NOT NULL,"
	"  size INTEGER NOT NULL,"         /* bytes of its regular files, hardlinks counted once */
	"  refs INTEGER NOT NULL DEFAULT 0" /* image_layers rows */
	");"
	"CREATE TABLE entries ("
	"  layer_id INTEGER NOT NULL REFERENCES layers(id) ON DELETE CASCADE,"
	"  path TEXT NOT NULL,"            /* '' is the root, otherwise 'a/b' */
	"  type TEXT NOT NULL CHECK (type IN ('f','d','l','h','c','b','p','s','w')),"
	"  mode INTEGER NOT NULL,"         /* permission bits, 07777 */
	"  uid INTEGER NOT NULL,"
	"  gid INTEGER NOT NULL,"
	"  mtime_ns INTEGER NOT NULL,"
	"  size INTEGER NOT NULL DEFAULT 0,"
	"  target TEXT,"                   /* symlink target, or the path a hardlink shares */
	"  rdev INTEGER NOT NULL DEFAULT 0,"
	"  opaque INTEGER NOT NULL DEFAULT 0,"
	"  xattrs BLOB,"
	"  blob_id INTEGER REFERENCES blobs(id),"
	"  PRIMARY KEY (layer_id, path)"
	") WITHOUT ROWID;"
	"CREATE INDEX entries_blob ON entries(blob_id) WHERE blob_id IS NOT NULL;"
	/* Images and snapshots: ordered layer lists with an OCI image config. */
	"CREATE TABLE images ("
	"  id INTEGER PRIMARY KEY,"
	"  ref TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL DEFAULT 'image' CHECK (kind IN ('image','snapshot')),"
	"  digest TEXT NOT NULL,"
	"  config TEXT NOT NULL DEFAULT '{}',"
	"  created INTEGER NOT NULL,"
	"  last_used INTEGER NOT NULL"
	");"
	"CREATE TABLE image_layers ("
	"  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
	"  pos INTEGER NOT NULL,"
	"  layer_id INTEGER NOT NULL REFERENCES layers(id),"
	"  PRIMARY KEY (image_id, pos)"
	") WITHOUT ROWID;"
	"CREATE INDEX image_layers_layer ON image_layers(layer_id);"
	/* The merged index of an image: for each visible path, the layer whose entry it is.
	 * Computed once when the image is recorded (merged_index.c). */
	"CREATE TABLE image_index ("
	"  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
	"  path TEXT NOT NULL,"
	"  layer_id INTEGER NOT NULL REFERENCES layers(id),"
	"  PRIMARY KEY (image_id, path)"
	") WITHOUT ROWID;"
	"CREATE INDEX image_index_layer ON image_index(layer_id);"
	/* Containers, volumes and workspaces: their byte counts are kept by the filesystem. */
	"CREATE TABLE containers ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  image_id INTEGER REFERENCES images(id),"
	"  state TEXT NOT NULL DEFAULT 'created',"
	"  upper_bytes INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE TABLE volumes ("
	"  name TEXT PRIMARY KEY,"
	"  bytes INTEGER NOT NULL DEFAULT 0,"
	"  in_use INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE TABLE workspaces ("
	"  path TEXT PRIMARY KEY,"
	"  bytes INTEGER NOT NULL DEFAULT 0,"
	"  files INTEGER NOT NULL DEFAULT 0,"
	"  in_use INTEGER NOT NULL DEFAULT 0,"
	"  updated INTEGER NOT NULL"
	");"
	/* The sums. */
	"CREATE TABLE sums (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO sums(name, value) VALUES"
	"  ('chunks',0),('chunk_plain',0),('chunk_stored',0),('chunks_unref',0),('chunk_unref_stored',0),"
	"  ('blobs',0),('blob_bytes',0),"
	"  ('layers',0),('layer_bytes',0),('layers_unref',0),('layer_unref_bytes',0),"
	"  ('images',0),('snapshots',0),('image_bytes',0),"
	"  ('containers',0),('containers_running',0),('container_bytes',0),"
	"  ('volumes',0),('volumes_in_use',0),('volume_bytes',0),"
	"  ('workspaces',0),('workspaces_in_use',0),('workspace_bytes',0);"
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
	"END;"
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
	"END;"
	/* entries -> blob references */
	"CREATE TRIGGER entries_ins AFTER INSERT ON entries WHEN NEW.blob_id IS NOT NULL BEGIN"
	"  UPDATE blobs SET refs = refs + 1 WHERE id = NEW.blob_id;"
	"END;"
	"CREATE TRIGGER entries_del AFTER DELETE ON entries WHEN OLD.blob_id IS NOT NULL BEGIN"
	"  UPDATE blobs SET refs = refs - 1 WHERE id = OLD.blob_id;"
	"END;"
	/* layers -> sums */
	"CREATE TRIGGER layers_ins AFTER INSERT ON layers BEGIN"
	"  UPDATE sums SET value = value + CASE name"
	"    WHEN 'layers' THEN 1 WHEN 'layer_bytes' THEN NEW.size"
	"    WHEN 'layers_unref' THEN NEW.refs = 0"
	"    WHEN 'layer_unref_bytes' THEN CASE WHEN NEW.refs = 0 THEN NEW.size ELSE 0 END END"
	"  WHERE name IN ('layers','layer_bytes','layers_unref','layer_unref_bytes');"
	"END;"
	"CREATE TRIGGER layers_del AFTER DELETE ON layers BEGIN"
	"  UPDATE sums SET value = value - CASE name"
	"    WHEN 'layers' THEN 1 WHEN 'layer_bytes' THEN OLD.size"
	"    WHEN 'layers_unref' THEN OLD.refs = 0"
	"    WHEN 'layer_unref_bytes' THEN CASE WHEN OLD.refs = 0 THEN OLD.size ELSE 0 END END"
	"  WHERE name IN ('layers','layer_bytes','layers_unref','layer_unref_bytes');"
	"END;"
	"CREATE TRIGGER layers_upd AFTER UPDATE OF refs, size ON layers"
	"  WHEN (NEW.refs = 0) != (OLD.refs = 0) OR NEW.size != OLD.size BEGIN"
	"  UPDATE sums SET value = value + NEW.refs * NEW.size - OLD.refs * OLD.size"
	"  WHERE name = 'image_bytes' AND OLD.refs = NEW.refs;"
	"  UPDATE sums SET value = value + CASE name"
	"    WHEN 'layer_bytes' THEN NEW.size - OLD.size"
	"    WHEN 'layers_unref' THEN (NEW.refs = 0) - (OLD.refs = 0)"
	"    WHEN 'layer_unref_bytes' THEN CASE WHEN NEW.refs = 0 THEN NEW.size ELSE 0 END"
	"                                - CASE WHEN OLD.refs = 0 THEN OLD.size ELSE 0 END END"
	"  WHERE name IN ('layer_bytes','layers_unref','layer_unref_bytes');"
	"END;"
	/* image_layers -> layer references; images -> sums */
	"CREATE TRIGGER image_layers_ins AFTER INSERT ON image_layers BEGIN"
	"  UPDATE layers SET refs = refs + 1 WHERE id = NEW.layer_id;"
	"  UPDATE sums SET value = value + coalesce((SELECT size FROM layers WHERE id = NEW.layer_id), 0)"
	"  WHERE name = 'image_bytes';"
	"END;"
	"CREATE TRIGGER image_layers_del AFTER DELETE ON image_layers BEGIN"
	"  UPDATE layers SET refs = refs - 1 WHERE id = OLD.layer_id;"
	"  UPDATE sums SET value = value - coalesce((SELECT size FROM layers WHERE id = OLD.layer_id), 0)"
	"  WHERE name = 'image_bytes';"
	"END;"
	"CREATE TRIGGER images_ins AFTER INSERT ON images BEGIN"
	"  UPDATE sums SET value = value + 1"
	"  WHERE name = CASE NEW.kind WHEN 'image' THEN 'images' ELSE 'snapshots' END;"
	"END;"
	"CREATE TRIGGER images_del AFTER DELETE ON images BEGIN"
	"  UPDATE sums SET value = value - 1"
	"  WHERE name = CASE OLD.kind WHEN 'image' THEN 'images' ELSE 'snapshots' END;"
	"END;"
	/* containers, volumes, workspaces -> sums */
	"CREATE TRIGGER containers_ins AFTER INSERT ON containers BEGIN"
	"  UPDATE sums SET value = value + CASE name WHEN 'containers' THEN 1"
	"    WHEN 'containers_running' THEN NEW.state = 'running' ELSE NEW.upper_bytes END"
	"  WHERE name IN ('containers','containers_running','container_bytes');"
	"END;"
	"CREATE TRIGGER containers_del AFTER DELETE ON containers BEGIN"
	"  UPDATE sums SET value = value - CASE name WHEN 'containers' THEN 1"
	"    WHEN 'containers_running' THEN OLD.state = 'running' ELSE OLD.upper_bytes END"
	"  WHERE name IN ('containers','containers_running','container_bytes');"
	"END;"
	"CREATE TRIGGER containers_upd AFTER UPDATE OF state, upper_bytes ON containers BEGIN"
	"  UPDATE sums SET value = value + CASE name"
	"    WHEN 'containers_running' THEN (NEW.state = 'running') - (OLD.state = 'running')"
	"    ELSE NEW.upper_bytes - OLD.upper_bytes END"
	"  WHERE name IN ('containers_running','container_bytes');"
	"END;"
	"CREATE TRIGGER volumes_ins AFTER INSERT ON volumes BEGIN"
	"  UPDATE sums SET value = value + CASE name WHEN 'volumes' THEN 1"
	"    WHEN 'volumes_in_use' THEN NEW.in_use != 0 ELSE NEW.bytes END"
	"  WHERE name IN ('volumes','volumes_in_use','volume_bytes');"
	"END;"
	"CREATE TRIGGER volumes_del AFTER DELETE ON volumes BEGIN"
	"  UPDATE sums SET value = value - CASE name WHEN 'volumes' THEN 1"
	"    WHEN 'volumes_in_use' THEN OLD.in_use != 0 ELSE OLD.bytes END"
	"  WHERE name IN ('volumes','volumes_in_use','volume_bytes');"
	"END;"
	"CREATE TRIGGER volumes_upd AFTER UPDATE OF in_use, bytes ON volumes BEGIN"
	"  UPDATE sums SET value = value + CASE name"
	"    WHEN 'volumes_in_use' THEN (NEW.in_use != 0) - (OLD.in_use != 0)"
	"    ELSE NEW.bytes - OLD.bytes END"
	"  WHERE name IN ('volumes_in_use','volume_bytes');"
	"END;"
	"CREATE TRIGGER workspaces_ins AFTER INSERT ON workspaces BEGIN"
	"  UPDATE sums SET value = value + CASE name WHEN 'workspaces' THEN 1"
	"    WHEN 'workspaces_in_use' THEN NEW.in_use != 0 ELSE NEW.bytes END"
	"  WHERE name IN ('workspaces','workspaces_in_use','workspace_bytes');"
	"END;"
	"CREATE TRIGGER workspaces_del AFTER DELETE ON workspaces BEGIN"
	"  UPDATE sums SET value = value - CASE name WHEN 'workspaces' THEN 1"
	"    WHEN 'workspaces_in_use' THEN OLD.in_use != 0 ELSE OLD.bytes END"
	"  WHERE name IN ('workspaces','workspaces_in_use','workspace_bytes');"
	"END;"
	"CREATE TRIGGER workspaces_upd AFTER UPDATE OF in_use, bytes ON workspaces BEGIN"
	"  UPDATE sums SET value = value + CASE name"
	"    WHEN 'workspaces_in_use' THEN (NEW.in_use != 0) - (OLD.in_use != 0)"
	"    ELSE NEW.bytes - OLD.bytes END"
	"  WHERE name IN ('workspaces_in_use','workspace_bytes');"
	"END;";

/* v2: a container remembers the host folder it was made for, and the configuration file. */
static const char schema_v2[] =
	"ALTER TABLE containers ADD COLUMN folder TEXT;"
	"ALTER TABLE containers ADD COLUMN config_file TEXT;"
	"CREATE INDEX containers_folder ON containers(folder);";

/* v3: what a snapshot was taken from: its base image, the configuration it belongs to (the
 * folder and file: snapshots are grouped, listed and retained per configuration), the prebuild
 * key and its parts (so that a miss can say which part differed), the lifecycle stage, what
 * made it (`dcfs prebuild` or `dcfs snapshot`), and
 * whether retention has let it go (reclaimable: `dcfs prune` removes it). */
static const char schema_v3[] =
	"CREATE TABLE snapshots ("
	"  image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,"
	"  base_ref TEXT NOT NULL,"
	"  base_digest TEXT NOT NULL,"
	"  folder TEXT NOT NULL,"
	"  config_file TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  config_hash TEXT NOT NULL,"
	"  build_hash TEXT NOT NULL,"
	"  stage TEXT NOT NULL,"
	"  origin TEXT NOT NULL CHECK (origin IN ('prebuild','snapshot')),"
	"  created_ns INTEGER NOT NULL,"
	"  reclaimable INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX snapshots_key ON snapshots(key, created_ns);"
	"CREATE INDEX snapshots_config ON snapshots(config_file, created_ns);";

/* v4: the layer blobs `dcfs push` made (a layer compressed one way always gives the same
 * bytes) and where it put them, so that a later push skips writing a blob the registry has and
 * mounts it from another repository of the same registry rather than uploading it again;
 * whether an image was pulled; and the sums follow an image whose kind changes. */
static const char schema_v4[] =
	"CREATE TABLE pushed_blobs ("
	"  layer_id INTEGER NOT NULL REFERENCES layers(id) ON DELETE CASCADE,"
	"  compression TEXT NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  diff_id TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  registry TEXT NOT NULL,"
	"  repository TEXT NOT NULL,"
	"  PRIMARY KEY (layer_id, compression, registry, repository)"
	");"
	/* whether an image came from a registry (a pull can give it back: `rebuild --full`); before
	 * version 4, an image whose layers all came from registry blobs was pulled */
	"ALTER TABLE images ADD COLUMN pulled INTEGER NOT NULL DEFAULT 0;"
	"UPDATE images SET pulled = 1 WHERE kind = 'image' AND NOT EXISTS (SELECT 1 FROM"
	"  image_layers il JOIN layers l ON l.id = il.layer_id WHERE il.image_id = images.id"
	"  AND l.source NOT LIKE 'blob:%');"
	/* a pulled image that turns out to be a snapshot (snapshot.c) changes kind */
	"CREATE TRIGGER images_kind AFTER UPDATE OF kind ON images WHEN NEW.kind != OLD.kind BEGIN"
	"  UPDATE sums SET value = value + CASE name"
	"    WHEN CASE NEW.kind WHEN 'image' THEN 'images' ELSE 'snapshots' END THEN 1 ELSE -1 END"
	"  WHERE name IN ('images','snapshots');"
	"END;";

/* v5: blob keys are made in separate domains (layer_writer.c: blob_key). Keys made before could
 * collide across kinds (a small file's bytes equal to a large file's chunk list), so they are
 * retired: each becomes 'legacy-key' and its id, 32 bytes no SHA-256 reaches, which no new key
 * matches. An old content is found again by chunk name (its large files cost no new chunk
 * bytes) and gets a new key on its next import. One pass over the blobs, once. */
static const char schema_v5[] = "UPDATE blobs SET hash = CAST(printf('legacy-key%022d', id) AS BLOB);";

/* v6: a prebuild's workspace changes (launcher/up/prebuild_workspace.c): the git tree of HEAD the
 * prebuild's folder had ('' when it was no git repository) and the layer its changes to the
 * folder were stored as. The layer is referenced by the snapshot row as by an image_layers row,
 * so it lives and goes with the snapshot. */
static const char schema_v6[] =
	"ALTER TABLE snapshots ADD COLUMN workspace_tree TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE snapshots ADD COLUMN workspace_layer INTEGER REFERENCES layers(id);"
	"CREATE TRIGGER snapshots_ws_ins AFTER INSERT ON snapshots"
	"  WHEN NEW.workspace_layer IS NOT NULL BEGIN"
	"  UPDATE layers SET refs = refs + 1 WHERE id = NEW.workspace_layer;"
	"END;"
	"CREATE TRIGGER snapshots_ws_del AFTER DELETE ON snapshots"
	"  WHEN OLD.workspace_layer IS NOT NULL BEGIN"
	"  UPDATE layers SET refs = refs - 1 WHERE id = OLD.workspace_layer;"
	"END;";

/* v7: a container made for a `--config FILE` other than the folder's default is a variant:
 * its identity is the folder and that file (a default one's, the folder alone), so that each
 * configuration of a folder gets a container of its own. */
static const char schema_v7[] = "ALTER TABLE containers ADD COLUMN variant INTEGER NOT NULL DEFAULT 0;";

const char *const dcfs_catalog_migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
	schema_v5,
	schema_v6,
	schema_v7,
};
const int dcfs_catalog_version = (int)(sizeof(dcfs_catalog_migrations) / sizeof(dcfs_catalog_migrations[0]));
