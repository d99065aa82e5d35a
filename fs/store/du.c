/* `dcfs du`'s figures (see du.h): a handful of primary-key lookups in the sums table plus one
 * aggregate over the images table, whatever the number of files in the store. */
#include "du.h"

#include "catalog.h"
#include "image_table.h"
#include "snapshot_table.h"

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
	r = dcfs_image_snapshot_only_bytes(db, &snap_bytes, e);
	if (r < 0)
		goto out;
	/* Images a container uses, and the bytes of the layers they hold (not reclaimable). */
	int64_t active_images = 0, active_bytes = 0, idle_containers = 0, idle_volumes = 0;
	r = dcfs_image_count_used(db, &active_images, e);
	if (r >= 0)
		r = dcfs_image_used_bytes(db, &active_bytes, e);
	if (r >= 0)
		r = dcfs_catalog_int(db,
				     "SELECT coalesce(sum(upper_bytes), 0) FROM containers"
				     " WHERE state != 'running'",
				     NULL, &idle_containers, e);
	if (r >= 0)
		r = dcfs_catalog_int(db, "SELECT coalesce(sum(bytes), 0) FROM volumes WHERE in_use = 0",
				     NULL, &idle_volumes, e);
	/* Snapshots containers were made from; the bytes only retired, unused snapshots hold. */
	int64_t active_snaps = 0, reclaimable_snaps = 0;
	if (r >= 0)
		r = dcfs_snapshot_count_used(db, &active_snaps, e);
	if (r >= 0)
		r = dcfs_snapshot_reclaimable_bytes(db, &reclaimable_snaps, e);
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
