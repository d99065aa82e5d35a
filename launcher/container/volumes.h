/* Named volumes: folders STORE/volumes/<name>/ that `mounts` entries of type "volume" bind into
 * containers. Their rows in the catalog (bytes, in use) are what `dcfs du` sums; they are
 * brought up to date whenever a container starts, stops or is removed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"
#include "volume_table.h" /* dcfs_volumes_list: the rows as the last sync left them */

/* The names of the volumes container `id`'s bundle binds (none when it has no bundle). */
int dcfs_container_volumes(dcfs_store *s, const char *id, char ***names, size_t *n,
			   dcfs_error *e);

/* One row per folder under STORE/volumes with its bytes, in use when a running container binds
 * it; rows whose folder is gone are deleted. */
int dcfs_volumes_sync(dcfs_store *s, dcfs_error *e);

void dcfs_names_free(char **names, size_t n);
