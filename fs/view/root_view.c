/* FUSE operations of the read-only image view (see root_view.h). Everything but file data comes
 * from the tree in memory; file data is read chunk by chunk through the chunk cache. Lower data
 * never changes, so entries and attributes are cached by the kernel for a day and open files
 * keep their page cache. */
#include "root_view.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "catalog.h"
#include "chunk_cache.h"
#include "chunk_table.h"
#include "daemon_log.h"
#include "mount_state.h"
#include "root_tree.h"
#include "xattrs.h"

#define TIMEOUT 86400.0
#define CACHE_CHUNKS 64

struct dcfs_root_view {
	dcfs_store *store;
	dcfs_tree *tree;
	dcfs_chunk_cache *cache;
	pthread_mutex_t quarantine_lock;
	uint64_t bytes; /* for statfs */
	bool no_open;   /* the kernel may skip OPEN/RELEASE: it then keeps the page cache itself */
	bool no_opendir; /* the same for directories (and their cached listings) */
};

static dcfs_root_view *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* A chunk failed verification: move it aside and mark it so that fsck and a re-import see it. */
static void quarantine(const dcfs_hash *h, const char *why, void *u)
{
	dcfs_root_view *fs = u;
	char name[3 + DCFS_HASH_HEX], hex[DCFS_HASH_HEX], to[16 + DCFS_HASH_HEX];
	dcfs_store_chunk_name(h, name);
	dcfs_hash_to_hex(h, hex);
	snprintf(to, sizeof(to), "quarantine/%s", hex);
	dcfs_daemon_log(FUSE_LOG_ERR, "%s (quarantined)", why ? why : hex);
	pthread_mutex_lock(&fs->quarantine_lock);
	renameat(fs->store->chunks_fd, name, fs->store->root_fd, to);
	if (!fs->store->db) {
		/* the daemon closed the catalog when it detached */
		char db[4096];
		snprintf(db, sizeof(db), "%s/catalog.db", fs->store->root);
		dcfs_catalog_open(db, &fs->store->db, NULL);
	}
	dcfs_error err _cleanup_error_ = {0};
	if (fs->store->db && dcfs_chunk_table_quarantine(fs->store->db, h, &err) < 0)
		dcfs_daemon_log(FUSE_LOG_ERR, "chunk %s: cannot record its quarantine: %s", hex,
				err.msg ? err.msg : "catalog error");
	pthread_mutex_unlock(&fs->quarantine_lock);
}

int dcfs_root_view_new(dcfs_store *s, const char *ref, dcfs_root_view **out, dcfs_error *e)
{
	dcfs_root_view *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	fs->store = s;
	pthread_mutex_init(&fs->quarantine_lock, NULL);
	int r = dcfs_tree_load(s, ref, &fs->tree, e);
	if (r >= 0) {
		fs->cache = dcfs_chunk_cache_new(s->chunks_fd, CACHE_CHUNKS, quarantine, fs);
		if (!fs->cache)
			r = dcfs_error_set(e, ENOMEM, "out of memory");
	}
	if (r < 0) {
		dcfs_root_view_free(fs);
		return r;
	}
	for (size_t i = 0; i < fs->tree->nnodes; i++)
		fs->bytes += fs->tree->nodes[i].size;
	*out = fs;
	return 0;
}

void dcfs_root_view_free(dcfs_root_view *fs)
{
	if (!fs)
		return;
	dcfs_chunk_cache_free(fs->cache);
	dcfs_tree_free(fs->tree);
	pthread_mutex_destroy(&fs->quarantine_lock);
	free(fs);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	dcfs_root_view *fs = userdata;
	/* Answering OPEN with ENOSYS makes the kernel stop sending OPEN and RELEASE for files
	 * and keep their page cache: a read-only tree needs neither round trip. */
	fs->no_open = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
	fs->no_opendir = (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) != 0;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	conn->want &= ~(unsigned)FUSE_CAP_SPLICE_READ;
	conn->want |= conn->capable & (FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_ASYNC_READ);
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	conn->max_readahead = 1u << 20;
	char features[64];
	snprintf(features, sizeof(features), "%s%s%s", dcfs_mount_uses_io_uring(conn) ? " io_uring" : "",
		 fs->no_open ? " no_open" : "", fs->no_opendir ? " no_opendir" : "");
	dcfs_mount_state_publish("image", "read-only", features[0] ? features + 1 : "-",
				 conn->proto_major, conn->proto_minor);
}

static void reply_entry(fuse_req_t req, dcfs_root_view *fs, uint64_t ino)
{
	struct fuse_entry_param ep = {.ino = ino, .generation = 1, .attr_timeout = TIMEOUT,
				      .entry_timeout = TIMEOUT};
	dcfs_tree_stat(fs->tree, ino, &ep.attr);
	fuse_reply_entry(req, &ep);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	dcfs_root_view *fs = fs_of(req);
	dcfs_tree_node *p = dcfs_tree_node_get(fs->tree, parent);
	if (!p || p->type != 'd') {
		fuse_reply_err(req, p ? ENOTDIR : ENOENT);
		return;
	}
	uint64_t ino;
	if (!strcmp(name, "."))
		ino = parent;
	else if (!strcmp(name, ".."))
		ino = p->parent;
	else
		ino = dcfs_tree_lookup(fs->tree, parent, name);
	if (!ino) {
		/* a negative entry the kernel may cache as long as the positive ones */
		struct fuse_entry_param ep = {.ino = 0, .entry_timeout = TIMEOUT};
		fuse_reply_entry(req, &ep);
		return;
	}
	reply_entry(req, fs, ino);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	dcfs_root_view *fs = fs_of(req);
	if (!dcfs_tree_node_get(fs->tree, ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct stat st;
	dcfs_tree_stat(fs->tree, ino, &st);
	fuse_reply_attr(req, &st, TIMEOUT);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	dcfs_tree_node *n = dcfs_tree_node_get(fs_of(req)->tree, ino);
	if (!n || n->type != 'l' || !n->target)
		fuse_reply_err(req, EINVAL);
	else
		fuse_reply_readlink(req, n->target);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	dcfs_tree_node *n = dcfs_tree_node_get(fs_of(req)->tree, ino);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (fs_of(req)->no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

/* Copy [off, off+size) of the node's content into buf; holes read as zeros. */
static int read_range(dcfs_root_view *fs, dcfs_tree_node *n, char *buf, size_t size, uint64_t off)
{
	memset(buf, 0, size);
	const dcfs_tree_extent *x = fs->tree->extents + (n->nextents ? n->first_extent : 0);
	/* extents are sorted by file offset: skip those that end before `off` */
	size_t lo = 0, hi = n->nextents;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (x[mid].file_off + x[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < n->nextents && x[i].file_off < off + size; i++) {
		dcfs_cached_chunk *cc;
		const unsigned char *data;
		size_t len;
		int r = dcfs_chunk_cache_get(fs->cache, &x[i].chunk, &cc, &data, &len);
		if (r < 0)
			return r;
		uint64_t start = x[i].file_off > off ? x[i].file_off : off;
		uint64_t end = x[i].file_off + x[i].len;
		if (end > off + size)
			end = off + size;
		uint64_t src = x[i].chunk_off + (start - x[i].file_off);
		if (src + (end - start) <= len)
			memcpy(buf + (start - off), data + src, end - start);
		else
			r = -EIO; /* an extent outside its chunk: a damaged catalog */
		dcfs_chunk_cache_release(fs->cache, cc);
		if (r < 0)
			return r;
	}
	return 0;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	dcfs_root_view *fs = fs_of(req);
	dcfs_tree_node *n = dcfs_tree_node_get(fs->tree, ino);
	if (!n || n->type != 'f') {
		fuse_reply_err(req, n ? EISDIR : ENOENT);
		return;
	}
	if ((uint64_t)off >= n->size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if ((uint64_t)off + size > n->size)
		size = (size_t)(n->size - (uint64_t)off);
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	int r = read_range(fs, n, buf, size, (uint64_t)off);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, size);
	free(buf);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	dcfs_tree_node *n = dcfs_tree_node_get(fs_of(req)->tree, ino);
	if (!n || n->type != 'd') {
		fuse_reply_err(req, n ? ENOTDIR : ENOENT);
		return;
	}
	if (fs_of(req)->no_opendir) {
		fuse_reply_err(req, ENOSYS); /* no OPENDIR/RELEASEDIR round trips from now on */
		return;
	}
	fi->keep_cache = 1;
	fi->cache_readdir = 1;
	fuse_reply_open(req, fi);
}

/* Offsets: 1 is ".", 2 is "..", 3 + i is child i. */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	dcfs_root_view *fs = fs_of(req);
	dcfs_tree_node *n = dcfs_tree_node_get(fs->tree, ino);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	for (off_t i = off; (size_t)i < n->nchildren + 2; i++) {
		uint64_t cino = i == 0 ? ino : i == 1 ? n->parent : n->children[i - 2];
		const char *name = i == 0 ? "." : i == 1 ? ".." : fs->tree->nodes[n->children[i - 2] - 1].name;
		/* a hardlink's name maps to its target's inode */
		if (i >= 2)
			cino = dcfs_tree_lookup(fs->tree, ino, name);
		size_t rest = size - used, need;
		if (plus) {
			struct fuse_entry_param ep = {.ino = cino, .generation = 1, .attr_timeout = TIMEOUT,
						      .entry_timeout = TIMEOUT};
			dcfs_tree_stat(fs->tree, cino, &ep.attr);
			need = fuse_add_direntry_plus(req, buf + used, rest, name, &ep, i + 1);
			if (need > rest)
				break;
		} else {
			struct stat st = {.st_ino = cino};
			dcfs_tree_stat(fs->tree, cino, &st);
			need = fuse_add_direntry(req, buf + used, rest, name, &st, i + 1);
			if (need > rest)
				break;
		}
		used += need;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, true);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	dcfs_tree_node *n = dcfs_tree_node_get(fs_of(req)->tree, ino);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	size_t pos = 0, nl, vl;
	const char *xn;
	const void *xv;
	while (dcfs_xattrs_next(n->xattrs, n->xattrs_len, &pos, &xn, &nl, &xv, &vl)) {
		if (nl != strlen(name) || memcmp(xn, name, nl) != 0)
			continue;
		if (size == 0)
			fuse_reply_xattr(req, vl);
		else if (size < vl)
			fuse_reply_err(req, ERANGE);
		else
			fuse_reply_buf(req, xv, vl);
		return;
	}
	fuse_reply_err(req, ENODATA);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	dcfs_tree_node *n = dcfs_tree_node_get(fs_of(req)->tree, ino);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	size_t pos = 0, nl, vl, total = 0;
	const char *xn;
	const void *xv;
	while (dcfs_xattrs_next(n->xattrs, n->xattrs_len, &pos, &xn, &nl, &xv, &vl))
		total += nl + 1;
	if (size == 0) {
		fuse_reply_xattr(req, total);
		return;
	}
	if (size < total) {
		fuse_reply_err(req, ERANGE);
		return;
	}
	char *buf = malloc(total ? total : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	char *p = buf;
	pos = 0;
	while (dcfs_xattrs_next(n->xattrs, n->xattrs_len, &pos, &xn, &nl, &xv, &vl)) {
		memcpy(p, xn, nl);
		p[nl] = '\0';
		p += nl + 1;
	}
	fuse_reply_buf(req, buf, total);
	free(buf);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	dcfs_root_view *fs = fs_of(req);
	struct statvfs sv = {.f_bsize = 4096, .f_frsize = 4096, .f_namemax = 255,
			     .f_files = fs->tree->nnodes, .f_flag = ST_RDONLY};
	sv.f_blocks = (fs->bytes + 4095) / 4096;
	fuse_reply_statfs(req, &sv);
}

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	(void)ino;
	fuse_reply_err(req, (mask & W_OK) ? EROFS : 0);
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.open = op_open,
	.read = op_read,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.statfs = op_statfs,
	.access = op_access,
};

const struct fuse_lowlevel_ops *dcfs_root_view_ops(void)
{
	return &ops;
}
