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
#include "images.h"
#include "jsonc.h"
#include "runtime.h"
#include "volumes.h"

typedef struct planner {
	dcfs_store *s;
	dcfs_purge_plan *p;
	char *volumes;      /* STORE/volumes, absolute */
	int64_t *protected; /* image ids running containers use */
	size_t nprotected;
	char **busy_volumes; /* volumes running containers bind */
	size_t nbusy;
} planner;

static int add(planner *pl, dcfs_purge_kind kind, const char *name, uint64_t bytes,
	       const char *kept, dcfs_error *e)
{
	dcfs_purge_plan *p = pl->p;
	dcfs_purge_item *grown = realloc(p->items, (p->n + 1) * sizeof(*grown));
	if (!grown)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	p->items = grown;
	dcfs_purge_item *it = &p->items[p->n++];
	*it = (dcfs_purge_item){.kind = kind, .name = strdup(name), .bytes = bytes, .kept = kept};
	return it->name ? 0 : dcfs_error_set(e, ENOMEM, "out of memory");
}

static bool image_protected(const planner *pl, int64_t id)
{
	for (size_t i = 0; i < pl->nprotected; i++)
		if (pl->protected[i] == id)
			return true;
	return false;
}

static bool volume_busy(const planner *pl, const char *name)
{
	for (size_t i = 0; i < pl->nbusy; i++)
		if (!strcmp(pl->busy_volumes[i], name))
			return true;
	return false;
}

/* The volume folders a running container's bundle binds. */
static int note_volumes(planner *pl, const dcfs_container *c, dcfs_error *e)
{
	char **names = NULL;
	size_t n = 0;
	int r = dcfs_container_volumes(pl->s, c->id, &names, &n, e);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		char **grown = realloc(pl->busy_volumes, (pl->nbusy + 1) * sizeof(*grown));
		if (!grown) {
			r = dcfs_error_set(e, ENOMEM, "out of memory");
			break;
		}
		pl->busy_volumes = grown;
		grown[pl->nbusy++] = names[i];
		names[i] = NULL;
	}
	dcfs_names_free(names, n);
	return r;
}

/* Running, or about to (created), or frozen by a snapshot in progress (paused). */
static bool alive(const char *state)
{
	return state && (!strcmp(state, "running") || !strcmp(state, "paused") ||
			 !strcmp(state, "created"));
}

static int plan_containers(planner *pl, const char *folder, dcfs_error *e)
{
	dcfs_container *list = NULL;
	size_t n = 0;
	int r = dcfs_container_list(pl->s, &list, &n, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *runc_root = dcfs_container_runc_root(pl->s, e);
	if (!runc_root)
		r = -EIO;
	dcfs_runc runc = {.root = runc_root};
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const dcfs_container *c = &list[i];
		_cleanup_free_ char *state = NULL;
		dcfs_runc_state(&runc, c->id, &state);
		bool mine = c->folder && !strcmp(c->folder, folder);
		bool other_running = alive(state) && !mine;
		if (other_running) {
			int64_t *grown = realloc(pl->protected, (pl->nprotected + 1) * sizeof(*grown));
			if (!grown) {
				r = dcfs_error_set(e, ENOMEM, "out of memory");
				break;
			}
			pl->protected = grown;
			pl->protected[pl->nprotected++] = c->image_id;
			if ((r = note_volumes(pl, c, e)) < 0)
				break;
		}
		r = add(pl, DCFS_PURGE_CONTAINER, c->name, (uint64_t)c->upper_bytes,
			other_running ? "running" : NULL, e);
		if (r >= 0 && !(pl->p->items[pl->p->n - 1].id = strdup(c->id)))
			r = dcfs_error_set(e, ENOMEM, "out of memory");
		if (r >= 0 && c->folder && !(pl->p->items[pl->p->n - 1].folder = strdup(c->folder)))
			r = dcfs_error_set(e, ENOMEM, "out of memory");
		if (r >= 0)
			pl->p->items[pl->p->n - 1].rebuilt = mine;
	}
	dcfs_container_list_free(list, n);
	return r;
}

/* A pulled image comes back with a pull; an imported one would not. */
static int pullable(dcfs_store *s, int64_t id, bool *out, dcfs_error *e)
{
	int64_t pulled = 0;
	char param[32];
	snprintf(param, sizeof(param), "%lld", (long long)id);
	int r = dcfs_catalog_int(s->db, "SELECT pulled FROM images WHERE id = CAST(?1 AS INTEGER)",
				 param, &pulled, e);
	*out = pulled != 0;
	return r < 0 ? r : 0;
}

static int plan_images(planner *pl, dcfs_error *e)
{
	dcfs_image_info *list = NULL;
	size_t n = 0;
	int r = dcfs_images_list(pl->s, NULL, &list, &n, e);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const dcfs_image_info *im = &list[i];
		bool snapshot = !strcmp(im->kind, "snapshot"), can_pull = true;
		if (!snapshot && (r = pullable(pl->s, im->id, &can_pull, e)) < 0)
			break;
		const char *kept = image_protected(pl, im->id) ? "used by a running container"
				   : !can_pull ? "imported, not pulled: no registry can give it back"
					       : NULL;
		r = add(pl, snapshot ? DCFS_PURGE_SNAPSHOT : DCFS_PURGE_IMAGE, im->ref,
			snapshot ? im->unique : im->size, kept, e);
	}
	dcfs_images_free(list, n);
	return r;
}

static int plan_volumes(planner *pl, dcfs_error *e)
{
	_cleanup_closedir_ DIR *d = opendir(pl->volumes);
	if (!d)
		return 0; /* no volume was ever made */
	struct dirent *de;
	int r = 0;
	while (r >= 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "%s/%s", pl->volumes, de->d_name) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		uint64_t bytes = 0;
		if ((r = dcfs_tree_bytes(path, &bytes, e)) < 0)
			break;
		r = add(pl, DCFS_PURGE_VOLUME, de->d_name, bytes,
			volume_busy(pl, de->d_name) ? "used by a running container" : NULL, e);
	}
	return r;
}

int dcfs_purge_plan_make(dcfs_store *s, const char *folder, dcfs_purge_plan *p, dcfs_error *e)
{
	*p = (dcfs_purge_plan){0};
	planner pl = {.s = s, .p = p};
	_cleanup_free_ char *root = realpath(s->root, NULL);
	if (!root || asprintf(&pl.volumes, "%s/volumes", root) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int r = plan_containers(&pl, folder, e);
	if (r >= 0)
		r = plan_images(&pl, e);
	if (r >= 0)
		r = plan_volumes(&pl, e);
	free(pl.volumes);
	free(pl.protected);
	for (size_t i = 0; i < pl.nbusy; i++)
		free(pl.busy_volumes[i]);
	free(pl.busy_volumes);
	if (r < 0)
		dcfs_purge_plan_free(p);
	return r;
}

static int remove_containers(const char *root, const dcfs_purge_plan *p, uint64_t *freed,
			     dcfs_error *e)
{
	_cleanup_store_ dcfs_store *s = NULL;
	_cleanup_free_ char *runc_root = NULL;
	int r = dcfs_store_open(root, DCFS_STORE_WRITE, &s, e);
	if (r >= 0 && !(runc_root = dcfs_container_runc_root(s, e)))
		return -EIO;
	for (size_t i = 0; r >= 0 && i < p->n; i++) {
		const dcfs_purge_item *it = &p->items[i];
		if (it->kind != DCFS_PURGE_CONTAINER || it->kept)
			continue;
		_cleanup_close_ int lock = it->folder ? dcfs_container_lock(s, it->folder, e) : -1;
		if (it->folder && lock < 0)
			return lock;
		/* started since the plan was shown (another user's `up`): it stays */
		_cleanup_free_ char *state = NULL;
		dcfs_runc_state(&(dcfs_runc){.root = runc_root}, it->id, &state);
		if (!it->rebuilt && alive(state))
			continue;
		dcfs_container c = {.id = it->id, .name = it->name, .folder = it->folder};
		if ((r = dcfs_container_stop(s, &c, 10000, e)) < 0)
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
		if (dcfs_rm_rf(path) < 0)
			return dcfs_error_set(e, errno, "cannot remove volume '%s': %m", path);
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
		free(p->items[i].name), free(p->items[i].id), free(p->items[i].folder);
	free(p->items);
	*p = (dcfs_purge_plan){0};
}
