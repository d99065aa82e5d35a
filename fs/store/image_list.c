/* Listing and removing images (see image_list.h). Sizes come from the layer rows' sums: no file
 * index is read. */
#include "image_list.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "container_table.h"
#include "hash.h"

static char *column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return strdup(t ? (const char *)t : "");
}

int dcfs_image_list_list(dcfs_store *s, const char *kind, dcfs_image_info **out, size_t *n, dcfs_error *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(
		s->db,
		"SELECT i.id, i.ref, i.kind, i.digest, i.created, i.last_used, count(il.layer_id),"
		" coalesce(sum(l.size), 0),"
		" coalesce(sum(CASE WHEN l.refs > 1 THEN l.size ELSE 0 END), 0),"
		" CASE WHEN i.kind = 'image' THEN i.pulled = 0 ELSE coalesce((SELECT sn.origin"
		"  FROM snapshots sn WHERE sn.image_id = i.id), 'snapshot') != 'prebuild' END"
		" FROM images i LEFT JOIN image_layers il ON il.image_id = i.id"
		" LEFT JOIN layers l ON l.id = il.layer_id"
		" WHERE ?1 IS NULL OR i.kind = ?1"
		" GROUP BY i.id ORDER BY i.last_used DESC, i.id DESC",
		&st, e);
	if (r < 0)
		return r;
	if (kind)
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	dcfs_image_info *list = NULL;
	size_t count = 0, cap = 0;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			dcfs_image_info *nl = realloc(list, cap * sizeof(*nl));
			if (!nl) {
				dcfs_image_list_free(list, count);
				return dcfs_error_set(e, ENOMEM, "out of memory");
			}
			list = nl;
		}
		dcfs_image_info *im = &list[count++];
		*im = (dcfs_image_info){
			.id = sqlite3_column_int64(st, 0),
			.ref = column_dup(st, 1),
			.kind = column_dup(st, 2),
			.digest = column_dup(st, 3),
			.created = sqlite3_column_int64(st, 4),
			.last_used = sqlite3_column_int64(st, 5),
			.layers = sqlite3_column_int(st, 6),
			.size = (uint64_t)sqlite3_column_int64(st, 7),
			.shared = (uint64_t)sqlite3_column_int64(st, 8),
			.precious = sqlite3_column_int(st, 9) != 0,
		};
		im->unique = im->size - im->shared;
	}
	if (r < 0) {
		dcfs_image_list_free(list, count);
		return r;
	}
	*out = list;
	*n = count;
	return 0;
}

void dcfs_image_list_free(dcfs_image_info *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].ref);
		free(list[i].kind);
		free(list[i].digest);
	}
	free(list);
}

static int pin_path(dcfs_store *s, int64_t image_id, char **out)
{
	if (asprintf(out, "%s/mnt/image-%lld.lock", s->root, (long long)image_id) < 0)
		return -ENOMEM;
	return 0;
}

int dcfs_image_pin(dcfs_store *s, int64_t image_id, dcfs_error *e)
{
	_cleanup_free_ char *path = NULL;
	if (pin_path(s, image_id, &path) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return dcfs_error_set(e, errno, "cannot open '%s': %m", path);
	if (flock(fd, LOCK_SH) < 0) {
		close(fd);
		return dcfs_error_set(e, errno, "cannot lock '%s': %m", path);
	}
	return fd;
}

static bool image_in_use(dcfs_store *s, int64_t image_id)
{
	_cleanup_free_ char *path = NULL;
	if (pin_path(s, image_id, &path) < 0)
		return false;
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK;
	unlink(path);
	return false;
}

int dcfs_image_remove(dcfs_store *s, const char *ref, dcfs_error *e)
{
	int64_t id = 0;
	int r = dcfs_catalog_int(s->db, "SELECT id FROM images WHERE ref = ?1", ref, &id, e);
	if (r < 0)
		return r;
	if (r == 0)
		return dcfs_error_set(e, ENOENT, "no such image: '%s'", ref);
	if (image_in_use(s, id))
		return dcfs_error_set(e, EBUSY, "image '%s' is in use by a mount; unmount it first", ref);
	_cleanup_free_ char *user = NULL;
	r = dcfs_container_table_image_user(s, id, &user, e);
	if (r < 0)
		return r;
	if (r > 0)
		return dcfs_error_set(e, EBUSY, "image '%s' is used by container '%s' (remove it with 'dcfs rm')",
				      ref, user);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	r = dcfs_catalog_prepare(s->db, "DELETE FROM images WHERE ref = ?1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return dcfs_catalog_error(s->db, e, "catalog");
	if (sqlite3_changes(s->db) == 0)
		return dcfs_error_set(e, ENOENT, "no such image: '%s'", ref);
	return 0;
}

int dcfs_image_config_by_digest(dcfs_store *s, const char *digest, char **config_json, dcfs_error *e)
{
	*config_json = NULL;
	if (strncmp(digest, "sha256:", 7) || strlen(digest) != 7 + 64)
		return 0;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = dcfs_catalog_prepare(s->db, "SELECT DISTINCT config FROM images", &st, e);
	if (r < 0)
		return r;
	while ((r = dcfs_catalog_step(st, e)) > 0) {
		const void *text = sqlite3_column_blob(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		dcfs_hash h;
		char hex[DCFS_HASH_HEX];
		dcfs_hash_buf(text ? text : "", len, &h);
		dcfs_hash_to_hex(&h, hex);
		if (strcmp(hex, digest + 7))
			continue;
		*config_json = strndup(text ? text : "", len);
		return *config_json ? 1 : dcfs_error_set(e, ENOMEM, "out of memory");
	}
	return r;
}
