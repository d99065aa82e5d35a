/* The purge of a full rebuild, as a Codespaces full rebuild purges a codespace's own cache:
 * what the folder's configuration used (its container, the image it was made from, its
 * snapshots and prebuilds and the images they were taken over, the volumes it binds) and no
 * other folder's container (running or stopped) uses. Other folders' containers, snapshots and
 * prebuilds are not touched, nor are workspaces (the user's folders on the host). An image that
 * was imported rather than pulled or built is kept: no registry or builder could give it back.
 * A container on an engine takes its image and named volumes in that engine with it (unless
 * another container uses them: the engine refuses, and they stay); a Compose one's project goes
 * with `down --volumes --rmi local`. The plan is made first, so that the user can see it (with sizes) before anything is removed. */
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
	DCFS_PURGE_ENGINE_IMAGE,  /* in the engine a container of the configuration ran on */
	DCFS_PURGE_ENGINE_VOLUME, /* a named volume that container had the engine make */
} dcfs_purge_kind;

typedef struct dcfs_purge_item {
	dcfs_purge_kind kind;
	char *name;   /* container name, image or snapshot ref, volume name */
	char *id;     /* container id */
	char *folder; /* container folder */
	char *engine, *engine_host; /* the engine of an ENGINE_ item */
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

/* An item added to a plan (its name copied). */
int dcfs_purge_add(dcfs_purge_plan *p, dcfs_purge_kind kind, const char *name, uint64_t bytes,
		   const char *kept, dcfs_error *e);

/* purge_engine.c: the image and named volumes of engine container `c` added to the plan; a
 * Compose container's project brought down with its volumes and local images (before the
 * container goes); one ENGINE_ item removed from its engine (one that is in use stays, said
 * nowhere: the engine keeps what another container needs). */
struct dcfs_container;
int dcfs_purge_engine_plan(dcfs_store *s, const struct dcfs_container *c, dcfs_purge_plan *p,
			   dcfs_error *e);
int dcfs_purge_engine_project(dcfs_store *s, const struct dcfs_container *c, dcfs_error *e);
int dcfs_purge_engine_remove(const dcfs_purge_item *it, uint64_t *freed, dcfs_error *e);
