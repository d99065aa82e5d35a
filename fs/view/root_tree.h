/* An image's merged tree in memory, loaded once from the catalog's merged index for the
 * read-only root view: inodes, names, attributes, extended attributes and file extents. */
#pragma once

#include <stdint.h>
#include <sys/stat.h>

#include "error.h"
#include "hash.h"
#include "map.h"
#include "store.h"

typedef struct dcfs_tree_extent {
	uint64_t file_off;
	uint32_t chunk_off, len;
	dcfs_hash chunk;
} dcfs_tree_extent;

typedef struct dcfs_tree_node {
	uint64_t parent; /* inode number; the root is its own parent */
	char *name;      /* last path component ("" for the root) */
	char type;       /* f d l c b p s */
	uint32_t mode, uid, gid, nlink;
	int64_t mtime_ns;
	uint64_t size, rdev, blocks;
	char *target; /* symlink target */
	unsigned char *xattrs;
	size_t xattrs_len;
	size_t first_extent, nextents;
	uint32_t *children; /* inode numbers of directory entries, in name order */
	size_t nchildren;
} dcfs_tree_node;

typedef struct dcfs_tree {
	dcfs_tree_node *nodes; /* nodes[ino - 1]; ino 1 is the root */
	size_t nnodes;
	dcfs_tree_extent *extents;
	size_t nextents;
	dcfs_map lookup; /* (parent ino, name) -> ino */
	int64_t image_id;
} dcfs_tree;

/* Load the merged tree of image `ref` (which must exist) and mark it used now. */
int dcfs_tree_load(dcfs_store *s, const char *ref, dcfs_tree **out, dcfs_error *e);
void dcfs_tree_free(dcfs_tree *t);

/* The node of inode `ino`, NULL when out of range. */
dcfs_tree_node *dcfs_tree_node_get(dcfs_tree *t, uint64_t ino);
/* The inode of `name` in directory `parent`, 0 when absent. */
uint64_t dcfs_tree_lookup(dcfs_tree *t, uint64_t parent, const char *name);
/* Fill a struct stat for `ino`. */
void dcfs_tree_stat(dcfs_tree *t, uint64_t ino, struct stat *st);
