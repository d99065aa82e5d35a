/* `dcfs du`'s figures (see du.h): a handful of primary-key lookups in the sums table plus one
 * aggregate over the images table, whatever the number of files in the store. */
#include "du.h"

#include "catalog.h"
#include "container_table.h"
#include "layer_table.h"
#include "volume_table.h"

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
	r = dcfs_layer_bytes_of_snapshots_only(db, &snap_bytes, e);
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
		r = dcfs_layer_bytes_used_by_containers(db, &active_bytes, e);
	/* Snapshots containers were made from; the bytes only retired, unused snapshots hold. */
	int64_t active_snaps = containers.snapshots_used, reclaimable_snaps = 0;
	if (r >= 0)
		r = dcfs_layer_bytes_of_reclaimable_snapshots(db, &reclaimable_snaps, e);
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
	dcfs_catalog_exec(db, "COMMIT", NULL);
	return r < 0 ? r : 0;
}
