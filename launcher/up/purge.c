/* Planning and carrying out a full rebuild's purge (see purge.h). */
#include "purge.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "container.h"
#include "fsutil.h"
#include "gc.h"
#include "build_table.h"
#include "feature_table.h"
#include "image_list.h"
#include "image_table.h"
#include "jsonc.h"
#include "runtime.h"
#include "snapshot.h"
#include "volumes.h"

typedef struct planner {
	dcfs_store *s;
	dcfs_purge_plan *p;
	char *volumes;      /* STORE/volumes, absolute */
	int64_t *protected; /* image ids other folders' containers use */
	size_t nprotected;
	int64_t *used; /* image ids the rebuilt folder's container used */
	size_t nused;
	char **busy_volumes; /* volumes other folders' containers bind */
	size_t nbusy;
	char **own_volumes; /* volumes the rebuilt folder's container binds */
	size_t nown;
	char *config_file; /* the rebuilt container's configuration */
} planner;

static int add(planner *pl, dcfs_purge_kind kind, const char *name, uint64_t bytes,
	       const char *kept, dcfs_error *e)
{
	return dcfs_purge_add(pl->p, kind, name, bytes, kept, e);
}

int dcfs_purge_add(dcfs_purge_plan *p, dcfs_purge_kind kind, const char *name, uint64_t bytes,
		   const char *kept, dcfs_error *e)
{
	dcfs_purge_item *grown = realloc(p->items, (p->n + 1) * sizeof(*grown));
	if (!grown)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	p->items = grown;
	dcfs_purge_item *it = &p->items[p->n++];
	*it = (dcfs_purge_item){.kind = kind, .name = strdup(name), .bytes = bytes, .kept = kept};
	return it->name ? 0 : dcfs_error_set(e, ENOMEM, "out of memory");
}

static bool has_id(const int64_t *ids, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static int add_id(int64_t **ids, size_t *n, int64_t id, dcfs_error *e)
{
	if (has_id(*ids, *n, id))
		return 0;
	int64_t *grown = realloc(*ids, (*n + 1) * sizeof(*grown));
	if (!grown)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	*ids = grown;
	grown[(*n)++] = id;
	return 0;
}

static bool has_name(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/* The volume folders container `c`'s bundle binds, added to `names`. */
static int note_volumes(planner *pl, const dcfs_container *c, char ***list, size_t *count,
			dcfs_error *e)
{
	char **names = NULL;
	size_t n = 0;
	int r = dcfs_container_volumes(pl->s, c->id, &names, &n, e);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		char **grown = realloc(*list, (*count + 1) * sizeof(*grown));
		if (!grown) {
			r = dcfs_error_set(e, ENOMEM, "out of memory");
			break;
		}
		*list = grown;
		grown[(*count)++] = names[i];
		names[i] = NULL;
	}
	dcfs_names_free(names, n);
	return r;
}

/* Only the rebuilt folder's container (of the rebuilt configuration, `variant`: container.h)
 * is removed. Every other container, running or stopped, stays, and so do the images it was
 * made from and the volumes it binds. */
static int plan_containers(planner *pl, const char *folder, const char *variant, dcfs_error *e)
{
	dcfs_container *list = NULL;
	size_t n = 0;
	int r = dcfs_container_list(pl->s, &list, &n, e);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const dcfs_container *c = &list[i];
		bool mine = c->folder && !strcmp(c->folder, folder) && c->variant == (variant != NULL) &&
			    (!variant || (c->config_file && !strcmp(c->config_file, variant)));
		if (!mine) {
			r = add_id(&pl->protected, &pl->nprotected, c->image_id, e);
			r = r ?: note_volumes(pl, c, &pl->busy_volumes, &pl->nbusy, e);
			continue;
		}
		r = add_id(&pl->used, &pl->nused, c->image_id, e);
		if (r >= 0 && c->config_file && !pl->config_file &&
		    !(pl->config_file = strdup(c->config_file)))
			r = dcfs_error_set(e, ENOMEM, "out of memory");
		r = r ?: note_volumes(pl, c, &pl->own_volumes, &pl->nown, e);
		r = r ?: add(pl, DCFS_PURGE_CONTAINER, c->name, (uint64_t)c->upper_bytes, NULL, e);
		if (r >= 0 && !(pl->p->items[pl->p->n - 1].id = strdup(c->id)))
			r = dcfs_error_set(e, ENOMEM, "out of memory");
		if (r >= 0 && !(pl->p->items[pl->p->n - 1].folder = strdup(c->folder)))
			r = dcfs_error_set(e, ENOMEM, "out of memory");
		if (r >= 0 && dcfs_container_on_engine(c))
			r = dcfs_purge_engine_plan(pl->s, c, pl->p, e);
	}
	dcfs_container_list_free(list, n);
	return r;
}

/* Image `ref`, when it is stored, is one this configuration used. */
static int note_image(planner *pl, const char *ref, dcfs_error *e)
{
	_cleanup_(dcfs_image_row_free) dcfs_image_row im = {0};
	int r = dcfs_image_lookup(pl->s, ref, &im, e);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : add_id(&pl->used, &pl->nused, im.id, e);
}

/* The folder's snapshots and prebuilds, and the images they were taken over, are what its
 * configuration used too. */
static int note_snapshots(planner *pl, const char *folder, dcfs_error *e)
{
	dcfs_snapshot *list = NULL;
	size_t n = 0;
	int r = dcfs_snapshot_list(pl->s, &list, &n, e);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (!list[i].folder || strcmp(list[i].folder, folder))
			continue;
		r = add_id(&pl->used, &pl->nused, list[i].image_id, e);
		if (r >= 0 && list[i].base_ref)
			r = note_image(pl, list[i].base_ref, e);
	}
	dcfs_snapshot_list_free(list, n);
	return r < 0 ? r : 0;
}

/* Is `name` one of the containers the purge removes? */
static bool purged_container(const planner *pl, const char *name, size_t len)
{
	for (size_t i = 0; i < pl->p->n; i++) {
		const dcfs_purge_item *it = &pl->p->items[i];
		if (it->kind == DCFS_PURGE_CONTAINER && strlen(it->name) == len &&
		    !strncmp(it->name, name, len))
			return true;
	}
	return false;
}

/* The configuration's feature layers (the images its features made, one over another): used
 * by it, and kept when a container the purge leaves holds one. */
static int note_features(planner *pl, dcfs_error *e)
{
	dcfs_feature_layer_info *list = NULL;
	size_t n = 0;
	int r = pl->config_file ? dcfs_feature_layer_list(pl->s, &list, &n, e) : 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (strcmp(list[i].config_file, pl->config_file))
			continue;
		r = add_id(&pl->used, &pl->nused, list[i].image_id, e);
		for (const char *p = list[i].containers; r >= 0 && p && *p;) {
			size_t len = strcspn(p, ",");
			if (!purged_container(pl, p, len))
				r = add_id(&pl->protected, &pl->nprotected, list[i].image_id, e);
			p += len;
			p += strspn(p, ", ");
		}
	}
	dcfs_feature_layer_list_free(list, n);
	return r < 0 ? r : 0;
}

/* A pulled image comes back with a pull, a built one with a build, a feature's with its
 * install; an imported one would not. */
static int pullable(dcfs_store *s, int64_t id, bool *out, dcfs_error *e)
{
	_cleanup_(dcfs_image_row_free) dcfs_image_row im = {0};
	int r = dcfs_image_lookup_id(s, id, &im, e);
	*out = r >= 0 && im.pulled;
	if (r >= 0 && !*out && (r = dcfs_build_is_image(s->db, id, e)) >= 0)
		*out = r > 0;
	if (r >= 0 && !*out && (r = dcfs_feature_layer_is_image(s->db, id, e)) >= 0)
		*out = r > 0;
	return r < 0 && r != -ENOENT ? r : 0;
}

static int plan_images(planner *pl, dcfs_error *e)
{
	dcfs_image_info *list = NULL;
	size_t n = 0;
	int r = dcfs_image_list_list(pl->s, NULL, &list, &n, e);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const dcfs_image_info *im = &list[i];
		if (!has_id(pl->used, pl->nused, im->id))
			continue; /* not this configuration's */
		bool snapshot = !strcmp(im->kind, "snapshot"), can_pull = true;
		if (!snapshot && (r = pullable(pl->s, im->id, &can_pull, e)) < 0)
			break;
		const char *kept = has_id(pl->protected, pl->nprotected, im->id)
					   ? "used by another folder's container"
				   : !can_pull ? "imported, not pulled: no registry can give it back"
					       : NULL;
		r = add(pl, snapshot ? DCFS_PURGE_SNAPSHOT : DCFS_PURGE_IMAGE, im->ref,
			snapshot ? im->unique : im->size, kept, e);
	}
	dcfs_image_list_free(list, n);
	return r;
}

static int plan_volumes(planner *pl, dcfs_error *e)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < pl->nown; i++) {
		const char *name = pl->own_volumes[i];
		if (has_name(pl->own_volumes, i, name))
			continue; /* bound twice */
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "%s/%s", pl->volumes, name) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		uint64_t bytes = 0;
		if ((r = dcfs_tree_bytes(path, &bytes, e)) < 0)
			break;
		r = add(pl, DCFS_PURGE_VOLUME, name, bytes,
			has_name(pl->busy_volumes, pl->nbusy, name) ? "used by another folder's container"
								    : NULL,
			e);
	}
	return r;
}

int dcfs_purge_plan_make(dcfs_store *s, const char *folder, const char *variant,
			 const char *image, dcfs_purge_plan *p, dcfs_error *e)
{
	*p = (dcfs_purge_plan){0};
	planner pl = {.s = s, .p = p};
	_cleanup_free_ char *root = realpath(s->root, NULL);
	if (!root || asprintf(&pl.volumes, "%s/volumes", root) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int r = plan_containers(&pl, folder, variant, e);
	r = r ?: note_snapshots(&pl, folder, e);
	r = r ?: note_features(&pl, e);
	if (r >= 0 && image)
		r = note_image(&pl, image, e);
	r = r < 0 ? r : 0;
	r = r ?: plan_images(&pl, e);
	r = r ?: plan_volumes(&pl, e);
	free(pl.volumes);
	free(pl.config_file);
	free(pl.protected);
	free(pl.used);
	dcfs_names_free(pl.busy_volumes, pl.nbusy);
	dcfs_names_free(pl.own_volumes, pl.nown);
	if (r < 0)
		dcfs_purge_plan_free(p);
	return r;
}

static int remove_containers(const char *root, const dcfs_purge_plan *p, uint64_t *freed,
			     dcfs_error *e)
{
	_cleanup_store_ dcfs_store *s = NULL;
	int r = dcfs_store_open(root, DCFS_STORE_WRITE, &s, e);
	for (size_t i = 0; r >= 0 && i < p->n; i++) {
		const dcfs_purge_item *it = &p->items[i];
		if (it->kind != DCFS_PURGE_CONTAINER || it->kept)
			continue;
		_cleanup_close_ int lock = it->folder ? dcfs_container_lock(s, it->folder, e) : -1;
		if (it->folder && lock < 0)
			return lock;
		_cleanup_(dcfs_container_free) dcfs_container c = {0};
		if ((r = dcfs_container_table_get(s, it->id, &c, e)) == -ENOENT) {
			r = 0, dcfs_error_clear(e); /* gone meanwhile */
			continue;
		}
		if (r < 0 || (dcfs_container_on_engine(&c) && (r = dcfs_purge_engine_project(s, &c, e)) < 0) ||
		    (r = dcfs_container_stop(s, &c, 10000, e)) < 0)
			break;
		_cleanup_free_ char *upper = dcfs_container_path(s, it->id, "upper");
		uint64_t bytes = 0;
		_cleanup_error_ dcfs_error ignored = {0};
		if (upper)
			dcfs_tree_bytes(upper, &bytes, &ignored);
		if ((r = dcfs_container_delete(s, it->id, e)) >= 0)
			*freed += bytes;
	}
	return r;
}

static int remove_rest(const char *root, const dcfs_purge_plan *p, uint64_t *freed, dcfs_error *e)
{
	_cleanup_store_ dcfs_store *s = NULL;
	int r = dcfs_store_open(root, DCFS_STORE_EXCLUSIVE, &s, e);
	_cleanup_free_ char *abs = realpath(root, NULL);
	if (r >= 0 && !abs)
		r = dcfs_error_set(e, errno, "store '%s': %m", root);
	for (size_t i = 0; r >= 0 && i < p->n; i++) {
		const dcfs_purge_item *it = &p->items[i];
		if (it->kept || it->kind == DCFS_PURGE_CONTAINER)
			continue;
		if (it->kind == DCFS_PURGE_ENGINE_IMAGE || it->kind == DCFS_PURGE_ENGINE_VOLUME) {
			r = dcfs_purge_engine_remove(it, freed, e);
			continue;
		}
		if (it->kind != DCFS_PURGE_VOLUME) {
			r = dcfs_image_remove(s, it->name, e);
			if (r == -ENOENT || r == -EBUSY) /* gone meanwhile, or a mount serves it now */
				r = 0, dcfs_error_clear(e);
			continue;
		}
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "%s/volumes/%s", abs, it->name) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		uint64_t bytes = 0;
		_cleanup_error_ dcfs_error ignored = {0};
		dcfs_tree_bytes(path, &bytes, &ignored);
		int q = dcfs_rm_rf(path);
		if (q < 0)
			return dcfs_error_set(e, q, "cannot remove volume '%s': %s", path,
					      strerror(-q));
		*freed += bytes;
	}
	dcfs_gc_stats st = {0};
	if (r >= 0 && (r = dcfs_gc(s, false, &st, e)) >= 0)
		*freed += st.chunk_bytes;
	return r < 0 ? r : dcfs_volumes_sync(s, e);
}

int dcfs_purge_run(const char *root, const dcfs_purge_plan *p, uint64_t *reclaimed,
		   dcfs_error *e)
{
	*reclaimed = 0;
	int r = remove_containers(root, p, reclaimed, e);
	return r < 0 ? r : remove_rest(root, p, reclaimed, e);
}

void dcfs_purge_plan_free(dcfs_purge_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->items[i].name), free(p->items[i].id), free(p->items[i].folder),
			free(p->items[i].engine), free(p->items[i].engine_host);
	free(p->items);
	*p = (dcfs_purge_plan){0};
}
