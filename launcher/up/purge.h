/* The purge of a full rebuild, as a Codespaces full rebuild purges a codespace's own cache:
 * what the folder's configuration used (its container, the image it was made from, its
 * snapshots and prebuilds and the images they were taken over, the volumes it binds) and no
 * other folder's container (running or stopped) uses. Other folders' containers, snapshots and
 * prebuilds are not touched, nor are workspaces (the user's folders on the host). An image that
 * was imported rather than pulled or built is kept: no registry or builder could give it back. The plan is made
 * first, so that the user can see it (with sizes) before anything is removed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

typedef enum dcfs_purge_kind {
	DCFS_PURGE_CONTAINER,
	DCFS_PURGE_IMAGE,
	DCFS_PURGE_SNAPSHOT,
	DCFS_PURGE_VOLUME,
} dcfs_purge_kind;

typedef struct dcfs_purge_item {
	dcfs_purge_kind kind;
	char *name;   /* container name, image or snapshot ref, volume name */
	char *id;     /* container id */
	char *folder; /* container folder */
	uint64_t bytes;
	const char *kept; /* NULL: to be removed; else why it stays */
} dcfs_purge_item;

typedef struct dcfs_purge_plan {
	dcfs_purge_item *items;
	size_t n;
} dcfs_purge_plan;

/* Plan the purge of `folder`'s configuration (`variant`, NULL: its default; container.h),
 * whose image is `image` (NULL: none named); that configuration's container is removed even
 * when it runs (it is the one being rebuilt), the folder's other configurations' stay. */
int dcfs_purge_plan_make(dcfs_store *s, const char *folder, const char *variant,
			 const char *image, dcfs_purge_plan *p, dcfs_error *e);

/* Carry out the plan's removals on the store at `root` (opened here: the containers with the
 * store shared, the images, snapshots, volumes and the chunks they free with it alone, so the
 * caller must not hold it open). *reclaimed receives the bytes freed on disk. */
int dcfs_purge_run(const char *root, const dcfs_purge_plan *p, uint64_t *reclaimed,
		   dcfs_error *e);

void dcfs_purge_plan_free(dcfs_purge_plan *p);
