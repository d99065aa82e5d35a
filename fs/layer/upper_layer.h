/* An overlay upper directory stored as one more layer over an image: what a snapshot
 * (snapshot.h) and a Dev Container Feature's install (feature_layer.h) both keep. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "error.h"
#include "layer_writer.h"
#include "store.h"

/* Ingest the overlay upper directory `upper` (nothing may write to it meanwhile: whiteouts and
 * opaque folders become the layer's) as a layer named `what:ref`, committed but referenced by
 * no image yet; *stats (optional) receives the figures, added to what it holds. */
int dcfs_upper_ingest(dcfs_store *s, const char *upper, const char *what, const char *ref,
		      int64_t *layer_id, dcfs_layer_writer_stats *stats, dcfs_error *e);

/* The layers of image `base_id`, bottom first, and `top` after them (malloc'd). */
int dcfs_upper_layer_list(sqlite3 *db, int64_t base_id, int64_t top, int64_t **out, size_t *n,
			  dcfs_error *e);
