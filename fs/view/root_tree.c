/* Loading an image's merged tree (see root_tree.h). One query reads the merged index joined
 * with the layer entries in path order, so a parent always comes before its children; a second
 * reads the extents of every file the tree holds. Hardlinks become extra names of one inode,
 * resolved within their own layer, so that a group keeps its inode when an upper layer hides its
 * first name. */
#include "root_tree.h"

#include <stdlib.h>
#include <string.h>

#include "blob_table.h"
#include "catalog.h"
#include "cleanup.h"
#include "entry.h"
#include "image_table.h"
#include "layer_table.h"
#include "merged_index.h"
#include "path.h"

#define NONE ((size_t)-1)

static int oom(dcfs_error *e)
{
	return dcfs_error_set(e, ENOMEM, "out of memory");
}

static int lookup_key(uint64_t parent, const char *name, char **key, size_t *klen)
{
	size_t n = strlen(name);
	*key = malloc(sizeof(parent) + n);
	if (!*key)
		return -ENOMEM;
	memcpy(*key, &parent, sizeof(parent));
	memcpy(*key + sizeof(parent), name, n);
	*klen = sizeof(parent) + n;
	return 0;
}

uint64_t dcfs_tree_lookup(dcfs_tree *t, uint64_t parent, const char *name)
{
	char buf[512];
	size_t n = strlen(name);
	_cleanup_free_ char *heap = NULL;
	char *key = buf;
	if (sizeof(parent) + n > sizeof(buf)) {
		size_t klen;
		if (lookup_key(parent, name, &heap, &klen) < 0)
			return 0;
		key = heap;
	} else {
		memcpy(buf, &parent, sizeof(parent));
		memcpy(buf + sizeof(parent), name, n);
	}
	size_t ino;
	return dcfs_map_get(&t->lookup, key, sizeof(parent) + n, &ino) ? ino : 0;
}

dcfs_tree_node *dcfs_tree_node_get(dcfs_tree *t, uint64_t ino)
{
	return ino >= 1 && ino <= t->nnodes ? &t->nodes[ino - 1] : NULL;
}

void dcfs_tree_stat(dcfs_tree *t, uint64_t ino, struct stat *st)
{
	dcfs_tree_node *n = dcfs_tree_node_get(t, ino);
	memset(st, 0, sizeof(*st));
	if (!n)
		return;
	static const struct {
		char type;
		mode_t fmt;
	} fmts[] = {{'f', S_IFREG}, {'d', S_IFDIR}, {'l', S_IFLNK}, {'c', S_IFCHR},
		    {'b', S_IFBLK}, {'p', S_IFIFO}, {'s', S_IFSOCK}};
	for (size_t i = 0; i < ELEMENTSOF(fmts); i++)
		if (fmts[i].type == n->type)
			st->st_mode = fmts[i].fmt;
	st->st_mode |= n->mode;
	st->st_ino = ino;
	st->st_nlink = n->nlink;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_rdev = n->rdev;
	st->st_size = (off_t)(n->type == 'l' ? strlen(n->target) : n->type == 'd' ? 4096 : n->size);
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)(n->type == 'd' ? 8 : n->blocks);
	st->st_mtim.tv_sec = n->mtime_ns / 1000000000;
	st->st_mtim.tv_nsec = n->mtime_ns % 1000000000;
	if (st->st_mtim.tv_nsec < 0) {
		st->st_mtim.tv_sec--;
		st->st_mtim.tv_nsec += 1000000000;
	}
	st->st_atim = st->st_ctim = st->st_mtim;
}

typedef struct loader {
	dcfs_tree *t;
	size_t cap;
	dcfs_map paths;  /* path -> ino, to find parents and hardlink targets */
	int64_t *blobs;  /* blob id per node (0: none) */
	int64_t *layers; /* layer id per node */
} loader;

/* The inode attributes of an entry (type, mode, owner, times, size, target, rdev, xattrs); the
 * name, parent and link count are the caller's. */
static int set_inode(dcfs_tree_node *n, const dcfs_entry_row *row, dcfs_error *e)
{
	n->type = row->type ? row->type : DCFS_T_FILE;
	n->mode = row->mode;
	n->uid = row->uid;
	n->gid = row->gid;
	n->mtime_ns = row->mtime_ns;
	n->size = row->size;
	n->rdev = row->rdev;
	free(n->target);
	n->target = NULL;
	if (row->target && !(n->target = strdup(row->target)))
		return oom(e);
	free(n->xattrs);
	n->xattrs = NULL;
	n->xattrs_len = 0;
	if (row->xattrs && row->xattrs_len > 0) {
		n->xattrs = malloc(row->xattrs_len);
		if (!n->xattrs)
			return oom(e);
		memcpy(n->xattrs, row->xattrs, row->xattrs_len);
		n->xattrs_len = row->xattrs_len;
	}
	return 0;
}

static int add_node(loader *l, const dcfs_entry_row *row, dcfs_error *e)
{
	dcfs_tree *t = l->t;
	const char *path = row->path;
	if (!path || !row->type)
		return dcfs_error_set(e, EIO, "catalog: damaged merged index");
	if (t->nnodes == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		dcfs_tree_node *n = realloc(t->nodes, cap * sizeof(*n));
		int64_t *b = realloc(l->blobs, cap * sizeof(*b));
		if (b)
			l->blobs = b;
		int64_t *ly = realloc(l->layers, cap * sizeof(*ly));
		if (ly)
			l->layers = ly;
		if (n)
			t->nodes = n;
		if (!n || !b || !ly)
			return oom(e);
		l->cap = cap;
	}
	size_t ino = t->nnodes + 1;
	dcfs_tree_node *n = &t->nodes[ino - 1];
	*n = (dcfs_tree_node){.nlink = row->type == DCFS_T_DIR ? 2 : 1, .first_extent = NONE};
	t->nnodes++;
	l->blobs[ino - 1] = row->blob_id;
	l->layers[ino - 1] = row->layer_id;
	int r = set_inode(n, row, e);
	if (r < 0)
		return r;
	n->name = strdup(dcfs_path_base(path));
	if (!n->name || dcfs_map_put(&l->paths, path, strlen(path), ino) < 0)
		return oom(e);
	if (!*path) {
		n->parent = ino;
		return 0;
	}
	_cleanup_free_ char *parent = dcfs_path_parent(path);
	size_t pino;
	if (!parent || !dcfs_map_get(&l->paths, parent, strlen(parent), &pino))
		return dcfs_error_set(e, EIO, "catalog: '%s' has no parent directory in the merged index", path);
	n->parent = pino;
	return 0;
}

/* A hardlink's inode is its target's entry in the link's own layer. When the merged tree shows
 * that very entry at the target's path, the link is one more name of its node. */
static bool link_to_visible(loader *l, size_t i, uint64_t *alias)
{
	dcfs_tree *t = l->t;
	dcfs_tree_node *n = &t->nodes[i];
	size_t tino;
	if (!dcfs_map_get(&l->paths, n->target, strlen(n->target), &tino) ||
	    l->layers[tino - 1] != l->layers[i] || t->nodes[tino - 1].type == DCFS_T_HARDLINK)
		return false;
	alias[i] = tino;
	t->nodes[tino - 1].nlink++;
	return true;
}

/* An upper layer whited out or replaced the link's target: the link, the first surviving name
 * of its group, takes the inode (content, mode, owner, times, xattrs) from the hidden entry, as
 * overlayfs keeps it. */
static int adopt_hidden_target(loader *l, dcfs_link_targets *targets, size_t i, dcfs_error *e)
{
	dcfs_tree_node *n = &l->t->nodes[i];
	dcfs_entry_row row;
	int r = dcfs_link_targets_find(targets, l->layers[i], n->target, &row, e);
	if (r > 0) {
		r = set_inode(n, &row, e);
		l->blobs[i] = row.blob_id;
	} else if (r == 0) {
		/* a damaged layer without the link's target: an empty file */
		n->type = DCFS_T_FILE;
		n->size = 0;
	} else {
		r = dcfs_error_wrap(e, "reading a hardlink's target");
	}
	return r;
}

/* Turn hardlink nodes into names of one inode: their target's node when the merged tree shows
 * it, otherwise the first surviving name of the group (same layer, same target), so that the
 * remaining names keep their content and still share one inode. */
static int resolve_hardlinks(loader *l, sqlite3 *db, uint64_t *alias, dcfs_error *e)
{
	dcfs_tree *t = l->t;
	for (size_t i = 0; i < t->nnodes; i++) {
		dcfs_tree_node *n = &t->nodes[i];
		alias[i] = i + 1;
		if (n->type == DCFS_T_HARDLINK && n->target && !link_to_visible(l, i, alias))
			alias[i] = 0;
	}
	dcfs_map groups = {0}; /* layer id and target path -> the inode that carries the group */
	_cleanup_(dcfs_link_targets_free) dcfs_link_targets targets = {0}; /* opened when needed */
	int r = 0;
	for (size_t i = 0; i < t->nnodes && r >= 0; i++) {
		dcfs_tree_node *n = &t->nodes[i];
		if (n->type == DCFS_T_HARDLINK && !n->target) {
			n->type = DCFS_T_FILE; /* damaged: a link to nothing is an empty file */
			n->size = 0;
		}
		if (alias[i])
			continue;
		_cleanup_free_ char *key = NULL;
		size_t klen, ino;
		if (lookup_key((uint64_t)l->layers[i], n->target, &key, &klen) < 0) {
			r = oom(e);
		} else if (dcfs_map_get(&groups, key, klen, &ino)) {
			alias[i] = ino;
			t->nodes[ino - 1].nlink++;
		} else {
			alias[i] = i + 1;
			if (!targets.st)
				r = dcfs_link_targets_open(&targets, db, e);
			if (r >= 0)
				r = adopt_hidden_target(l, &targets, i, e);
			if (r >= 0 && dcfs_map_put(&groups, key, klen, i + 1) < 0)
				r = oom(e);
		}
	}
	dcfs_map_free(&groups);
	return r;
}

/* Directory listings and the (parent, name) map; hardlinks point at their target inode. */
static int link_children(loader *l, const uint64_t *alias, dcfs_error *e)
{
	dcfs_tree *t = l->t;
	for (size_t i = 1; i < t->nnodes; i++) {
		dcfs_tree_node *p = &t->nodes[t->nodes[i].parent - 1];
		if (p->type == 'd' && t->nodes[i].type == 'd')
			p->nlink++;
		uint32_t *c = realloc(p->children, (p->nchildren + 1) * sizeof(*c));
		if (!c)
			return oom(e);
		p->children = c;
		p->children[p->nchildren++] = (uint32_t)(i + 1);
		_cleanup_free_ char *key = NULL;
		size_t klen;
		if (lookup_key(t->nodes[i].parent, t->nodes[i].name, &key, &klen) < 0 ||
		    dcfs_map_put(&t->lookup, key, klen, alias[i]) < 0)
			return oom(e);
	}
	return 0;
}

static int load_extents(loader *l, sqlite3 *db, dcfs_error *e)
{
	dcfs_tree *t = l->t;
	_cleanup_(dcfs_blob_extents_free) dcfs_blob_extents it = {0};
	int r = dcfs_blob_extents_open(&it, db, e);
	if (r < 0)
		return r;
	size_t cap = 0;
	for (size_t i = 0; i < t->nnodes; i++) {
		dcfs_tree_node *n = &t->nodes[i];
		if (n->type != DCFS_T_FILE || l->blobs[i] <= 0)
			continue;
		n->first_extent = t->nextents;
		dcfs_blob_extents_start(&it, l->blobs[i]);
		dcfs_blob_extent ext;
		while ((r = dcfs_blob_extents_next(&it, &ext, e)) > 0) {
			if (t->nextents == cap) {
				cap = cap ? cap * 2 : 1024;
				dcfs_tree_extent *x = realloc(t->extents, cap * sizeof(*x));
				if (!x)
					return oom(e);
				t->extents = x;
			}
			dcfs_tree_extent *x = &t->extents[t->nextents++];
			x->file_off = ext.file_off;
			x->chunk_off = (uint32_t)ext.chunk_off;
			x->len = (uint32_t)ext.len;
			x->chunk = ext.chunk;
			n->blocks += (x->len + 4095) / 4096 * 8; /* as a 4 KiB-block file system counts */
		}
		if (r < 0)
			return r;
		n->nextents = t->nextents - n->first_extent;
	}
	return 0;
}

static int find_image(dcfs_store *s, const char *ref, int64_t *id, dcfs_error *e)
{
	int r = dcfs_image_id(s, ref, id, e);
	if (r < 0)
		return r;
	dcfs_image_touch(s->db, *id);
	return 0;
}

int dcfs_tree_load(dcfs_store *s, const char *ref, dcfs_tree **out, dcfs_error *e)
{
	dcfs_tree *t = calloc(1, sizeof(*t));
	if (!t)
		return oom(e);
	loader l = {.t = t};
	int r = find_image(s, ref, &t->image_id, e);
	/* one read transaction: one consistent state, and one lock for the thousands of extent
	 * queries instead of one each */
	bool in_tx = r >= 0 && dcfs_catalog_exec(s->db, "BEGIN", NULL) >= 0;
	_cleanup_(dcfs_merged_entries_free) dcfs_merged_entries entries = {0};
	if (r >= 0)
		r = dcfs_merged_entries_open(&entries, s->db, t->image_id, e);
	if (r >= 0) {
		dcfs_entry_row row;
		while (r >= 0 && (r = dcfs_merged_entries_next(&entries, &row, e)) > 0)
			r = add_node(&l, &row, e);
		if (r >= 0 && t->nnodes == 0)
			r = dcfs_error_set(e, EIO, "image '%s' has an empty merged index", ref);
	}
	if (r >= 0) {
		uint64_t *alias = calloc(t->nnodes, sizeof(*alias));
		if (!alias)
			r = oom(e);
		else {
			r = resolve_hardlinks(&l, s->db, alias, e);
			if (r >= 0)
				r = link_children(&l, alias, e);
			free(alias);
		}
	}
	if (r >= 0)
		r = load_extents(&l, s->db, e);
	dcfs_merged_entries_free(&entries);
	if (in_tx)
		dcfs_catalog_exec(s->db, "COMMIT", NULL);
	dcfs_map_free(&l.paths);
	free(l.blobs);
	free(l.layers);
	if (r < 0) {
		dcfs_tree_free(t);
		return r;
	}
	*out = t;
	return 0;
}

void dcfs_tree_free(dcfs_tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nnodes; i++) {
		free(t->nodes[i].name);
		free(t->nodes[i].target);
		free(t->nodes[i].xattrs);
		free(t->nodes[i].children);
	}
	free(t->nodes);
	free(t->extents);
	dcfs_map_free(&t->lookup);
	free(t);
}
