/* `dcfs du`'s figures (see du.h): a handful of primary-key lookups in the sums table plus one
 * aggregate over the images table, whatever the number of files in the store. */
#include "du.h"

#include "catalog.h"
#include "container_table.h"
#include "volume_table.h"

/* Layers that some retired (reclaimable) snapshot no container uses holds, and nothing else
 * (a snapshot's workspace layer included). */
static const char reclaimable_snapshots_sql[] =
	"WITH gone(id) AS (SELECT s.image_id FROM snapshots s WHERE s.reclaimable = 1 AND NOT EXISTS"
	"  (SELECT 1 FROM containers c WHERE c.image_id = s.image_id))"
	" SELECT coalesce(sum(l.size), 0) FROM layers l WHERE l.refs > 0 AND NOT EXISTS (SELECT 1"
	"  FROM image_layers il WHERE il.layer_id = l.id AND il.image_id NOT IN gone)"
	"  AND NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.workspace_layer = l.id"
	"  AND s.image_id NOT IN gone)";

int dcfs_du_read(dcfs_store *s, dcfs_du *d, dcfs_error *e)
{
	sqlite3 *db = s->db;
	/* One read transaction so that every figure comes from the same state. */
	int r = dcfs_catalog_exec(db, "BEGIN", e);
	if (r < 0)
		return r;
#define SUM(name) ((uint64_t)dcfs_catalog_sum(db, name))
	/* Images: the bytes of the layers images hold; a snapshot's layers (and its workspace
	 * layer) count as snapshots. */
	int64_t snap_bytes = 0;
	r = dcfs_catalog_int(db,
			     "SELECT coalesce(sum(l.size), 0) FROM layers l WHERE (EXISTS (SELECT 1"
			     " FROM image_layers il JOIN images i ON i.id = il.image_id"
			     " WHERE il.layer_id = l.id AND i.kind = 'snapshot') OR EXISTS (SELECT 1"
			     " FROM snapshots s WHERE s.workspace_layer = l.id)) AND NOT EXISTS (SELECT 1"
			     " FROM image_layers il JOIN images i ON i.id = il.image_id"
			     " WHERE il.layer_id = l.id AND i.kind = 'image')",
			     NULL, &snap_bytes, e);
	if (r < 0)
		goto out;
	/* Images a container uses, and the bytes of the layers they hold (not reclaimable). */
	dcfs_container_figures containers = {0};
	dcfs_volume_figures volumes = {0};
	r = dcfs_container_table_figures(s, &containers, e);
	if (r >= 0)
		r = dcfs_volume_table_figures(s, &volumes, e);
	int64_t active_images = containers.images_used, active_bytes = 0,
		idle_containers = containers.idle_bytes, idle_volumes = volumes.idle_bytes;
	if (r >= 0)
		r = dcfs_catalog_int(db,
				     "SELECT coalesce(sum(size), 0) FROM layers WHERE id IN (SELECT"
				     " il.layer_id FROM image_layers il JOIN containers c"
				     " ON c.image_id = il.image_id)",
				     NULL, &active_bytes, e);
	/* Snapshots containers were made from; the bytes only retired, unused snapshots hold. */
	int64_t active_snaps = containers.snapshots_used, reclaimable_snaps = 0;
	if (r >= 0)
		r = dcfs_catalog_int(db, reclaimable_snapshots_sql, NULL, &reclaimable_snaps, e);
	if (r < 0)
		goto out;
	uint64_t layer_bytes = SUM("layer_bytes") - SUM("layer_unref_bytes"); /* layers images hold */
	d->images = (dcfs_du_row){
		.total = SUM("images"),
		.active = (uint64_t)active_images,
		.size = layer_bytes - (uint64_t)snap_bytes,
	};
	d->images.reclaimable = d->images.size > (uint64_t)active_bytes
					? d->images.size - (uint64_t)active_bytes : 0;
	d->snapshots = (dcfs_du_row){.total = SUM("snapshots"), .active = (uint64_t)active_snaps,
				     .size = (uint64_t)snap_bytes,
				     .reclaimable = (uint64_t)reclaimable_snaps};
	d->containers = (dcfs_du_row){.total = SUM("containers"), .active = SUM("containers_running"),
				      .size = SUM("container_bytes"),
				      .reclaimable = (uint64_t)idle_containers};
	d->volumes = (dcfs_du_row){.total = SUM("volumes"), .active = SUM("volumes_in_use"),
				   .size = SUM("volume_bytes"), .reclaimable = (uint64_t)idle_volumes};
	d->workspaces = (dcfs_du_row){.total = SUM("workspaces"), .active = SUM("workspaces_in_use"),
				      .size = SUM("workspace_bytes"), .reclaimable = 0};
	d->chunks = (dcfs_du_row){.total = SUM("chunks"),
				  .active = SUM("chunks") - SUM("chunks_unref"),
				  .size = SUM("chunk_stored"),
				  .reclaimable = SUM("chunk_unref_stored")};
	d->chunk_plain = SUM("chunk_plain");
	d->chunk_stored = SUM("chunk_stored");
	d->logical = SUM("image_bytes");
	d->unique = SUM("blob_bytes");
	d->unref_layers = SUM("layers_unref");
	d->unref_layer_bytes = SUM("layer_unref_bytes");
#undef SUM
out:
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return r < 0 ? r : 0;
}
