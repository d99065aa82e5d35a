/* The index a layer builder collects (see layer_writer.h): normalized paths, implicit parent
 * directories, entries replaced by later ones of the same path (hardlinks to a replaced entry keep
 * its inode), hardlinks checked against earlier entries, opaque markers. Entries that would leave
 * the root, or sit below a non-directory, are refused with the source's name for them. */
#include "layer_writer.h"

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "layer_writer_internal.h"
#include "path.h"

/* ---- entries --------------------------------------------------------------------------- */

static int find_entry(dcfs_layer_writer *in, const char *path, size_t *idx)
{
	return dcfs_map_get(&in->paths, path, strlen(path), idx) ? 1 : 0;
}

static int new_entry(dcfs_layer_writer *in, char *path, size_t *idx, dcfs_error *e)
{
	if (GROW(in->entries, in->nentries, in->entries_cap) < 0) {
		free(path);
		return ingest_oom(e);
	}
	*idx = in->nentries++;
	in->entries[*idx] = (entry){.path = path, .blob = NONE};
	if (dcfs_map_put(&in->paths, path, strlen(path), *idx) < 0)
		return ingest_oom(e);
	return 0;
}

/* Make sure every ancestor of `path` is a directory, creating missing ones (0755 root:root).
 * Errors name `who`, the source's entry that needs them. */
static int ensure_parents_of(dcfs_layer_writer *in, const char *path, const char *who, dcfs_error *e)
{
	if (!*path)
		return 0;
	_cleanup_free_ char *parent = dcfs_path_parent(path);
	if (!parent)
		return ingest_oom(e);
	size_t idx;
	if (find_entry(in, parent, &idx)) {
		entry *p = &in->entries[idx];
		if (p->type != DCFS_T_DIR)
			return dcfs_error_set(e, ENOTDIR, "%s '%s' is below %s '%s', which is not a directory",
					      in->what, who, p->type == DCFS_T_SYMLINK ? "symlink" : "entry",
					      p->path);
		p->has_children = true;
		return 0;
	}
	int r = ensure_parents_of(in, parent, who, e);
	if (r < 0)
		return r;
	r = new_entry(in, TAKE_PTR(parent), &idx, e);
	if (r < 0)
		return r;
	entry *p = &in->entries[idx];
	p->type = DCFS_T_DIR;
	p->mode = 0755;
	p->implicit = true;
	p->has_children = true;
	return 0;
}

/* Entry `idx` is about to be replaced: the hardlinks that name it keep its inode, as they would
 * on a disk. The first becomes the inode's primary entry; the others now name that one. */
static int promote_hardlinks(dcfs_layer_writer *in, size_t idx, dcfs_error *e)
{
	entry *old = &in->entries[idx];
	if (old->type == DCFS_T_DIR || old->type == DCFS_T_HARDLINK || old->type == DCFS_T_WHITEOUT)
		return 0;
	size_t primary = NONE;
	for (size_t i = 0; i < in->nentries; i++) {
		entry *h = &in->entries[i];
		if (h->type != DCFS_T_HARDLINK || !h->target || strcmp(h->target, old->path) != 0)
			continue;
		if (primary == NONE) {
			primary = i;
			free(h->target);
			h->target = NULL;
			if (old->target && !(h->target = strdup(old->target)))
				return ingest_oom(e);
			if (old->xattrs_len) {
				h->xattrs = malloc(old->xattrs_len);
				if (!h->xattrs)
					return ingest_oom(e);
				memcpy(h->xattrs, old->xattrs, old->xattrs_len);
				h->xattrs_len = old->xattrs_len;
			}
			h->type = old->type;
			h->rdev = old->rdev;
			h->blob = old->blob;
			h->size = old->size;
			continue;
		}
		char *t = strdup(in->entries[primary].path);
		if (!t)
			return ingest_oom(e);
		free(h->target);
		h->target = t;
	}
	return 0;
}

int ingest_ensure_parents(dcfs_layer_writer *in, const char *path, dcfs_error *e)
{
	return ensure_parents_of(in, path, path, e);
}

static int check_hardlink(dcfs_layer_writer *in, const char *path, const char *target, char **norm,
			  entry **tgt, dcfs_error *e)
{
	if (!target || !*target || target[0] == '/')
		return dcfs_error_set(e, EPERM, "%s '%s': hardlink target '%s' escapes the root", in->what,
				      path, target ? target : "");
	int r = dcfs_path_normalize(target, norm);
	if (r == -EPERM)
		return dcfs_error_set(e, EPERM, "%s '%s': hardlink target '%s' escapes the root", in->what,
				      path, target);
	if (r < 0)
		return ingest_oom(e);
	size_t idx;
	if (!find_entry(in, *norm, &idx) || in->entries[idx].implicit)
		return dcfs_error_set(e, ENOENT, "%s '%s': hardlink target '%s' is not an earlier entry",
				      in->what, path, target);
	*tgt = &in->entries[idx];
	if ((*tgt)->type == DCFS_T_DIR || (*tgt)->type == DCFS_T_WHITEOUT)
		return dcfs_error_set(e, EPERM, "%s '%s': hardlink target '%s' is a directory", in->what,
				      path, target);
	if ((*tgt)->type == DCFS_T_HARDLINK) {
		/* Point at the first path of the group. */
		free(*norm);
		*norm = strdup((*tgt)->target);
		if (!*norm)
			return ingest_oom(e);
		find_entry(in, *norm, &idx);
		*tgt = &in->entries[idx];
	}
	return 0;
}

int dcfs_layer_writer_add(dcfs_layer_writer *in, const dcfs_entry_info *info, dcfs_error *e)
{
	int r = ingest_close_file(in, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = NULL;
	r = dcfs_path_normalize(info->path, &path);
	if (r == -EPERM)
		return dcfs_error_set(e, EPERM, "%s '%s' escapes the root", in->what, info->path);
	if (r < 0)
		return ingest_oom(e);
	if (!*path && info->type != DCFS_T_DIR)
		return dcfs_error_set(e, EINVAL, "%s '%s': the root must be a directory", in->what, info->path);
	if (strlen(path) > 4095)
		return dcfs_error_set(e, ENAMETOOLONG, "%s '%.64s...': path too long", in->what, path);
	if (info->type == DCFS_T_FILE && info->size > DCFS_LAYER_BYTES_MAX - in->stats.file_bytes)
		return dcfs_error_set(e, EFBIG,
				      "%s '%s': its %llu bytes would take the layer past %llu bytes (1 PiB)",
				      in->what, path, (unsigned long long)info->size,
				      (unsigned long long)DCFS_LAYER_BYTES_MAX);

	_cleanup_free_ char *target = NULL;
	size_t link = NONE; /* an index: adding parents may move the entries array */
	if (info->type == DCFS_T_HARDLINK) {
		entry *t = NULL;
		r = check_hardlink(in, path, info->target, &target, &t, e);
		if (r < 0)
			return r;
		/* `tar cf x f f`, or a name re-linked to another name of its own inode: the entry
		 * already holds the file */
		if (!strcmp(target, path))
			return 0;
		link = (size_t)(t - in->entries);
	} else if (info->type == DCFS_T_SYMLINK) {
		target = strdup(info->target ? info->target : "");
		if (!target)
			return ingest_oom(e);
	}
	r = ingest_ensure_parents(in, path, e);
	if (r < 0)
		return r;

	size_t idx;
	if (find_entry(in, path, &idx)) {
		entry *old = &in->entries[idx];
		if (old->has_children && info->type != DCFS_T_DIR)
			return dcfs_error_set(e, EEXIST, "%s '%s' replaces a directory that has entries",
					      in->what, path);
		bool children = old->has_children, opaque = old->opaque;
		r = promote_hardlinks(in, idx, e);
		if (r < 0)
			return r;
		old = &in->entries[idx];
		ingest_entry_release(old);
		*old = (entry){.path = TAKE_PTR(path), .blob = NONE, .has_children = children, .opaque = opaque};
	} else {
		r = new_entry(in, TAKE_PTR(path), &idx, e);
		if (r < 0)
			return r;
	}
	entry *en = &in->entries[idx];
	en->type = info->type;
	en->mode = info->mode & 07777;
	en->uid = info->uid;
	en->gid = info->gid;
	en->mtime_ns = info->mtime_ns;
	en->rdev = (info->type == DCFS_T_CHAR || info->type == DCFS_T_BLOCK) ? info->rdev : 0;
	en->target = TAKE_PTR(target);
	if (info->xattrs_len) {
		en->xattrs = malloc(info->xattrs_len);
		if (!en->xattrs)
			return ingest_oom(e);
		memcpy(en->xattrs, info->xattrs, info->xattrs_len);
		en->xattrs_len = info->xattrs_len;
	}
	in->stats.entries++;
	if (link != NONE) {
		/* A hardlink shares its target's inode: same metadata and content. */
		const entry *t = &in->entries[link];
		en->mode = t->mode;
		en->uid = t->uid;
		en->gid = t->gid;
		en->mtime_ns = t->mtime_ns;
		en->size = t->size;
		return 0;
	}
	if (info->type != DCFS_T_FILE)
		return 0;
	en->size = info->size;
	in->stats.files++;
	in->stats.file_bytes += info->size;
	r = ingest_make_room(in, info->size, e);
	if (r < 0)
		return r;
	ingest_open_file(in, idx, info->size);
	return 0;
}

int dcfs_layer_writer_set_opaque(dcfs_layer_writer *in, const char *dir, dcfs_error *e)
{
	int r = ingest_close_file(in, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = NULL;
	r = dcfs_path_normalize(dir, &path);
	if (r == -EPERM)
		return dcfs_error_set(e, EPERM, "%s '%s' escapes the root", in->what, dir);
	if (r < 0)
		return ingest_oom(e);
	size_t idx;
	if (!find_entry(in, path, &idx)) {
		/* The marker may come before its directory: create it implicitly. */
		r = ingest_ensure_parents(in, path, e);
		if (r < 0)
			return r;
		r = new_entry(in, TAKE_PTR(path), &idx, e);
		if (r < 0)
			return r;
		in->entries[idx].type = DCFS_T_DIR;
		in->entries[idx].mode = 0755;
		in->entries[idx].implicit = true;
	}
	if (in->entries[idx].type != DCFS_T_DIR)
		return dcfs_error_set(e, ENOTDIR, "%s '%s': opaque marker on a non-directory", in->what, dir);
	in->entries[idx].opaque = true;
	return 0;
}
