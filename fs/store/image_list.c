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
#include "image_table.h"

int dcfs_image_list_list(dcfs_store *s, const char *kind, dcfs_image_info **out, size_t *n, dcfs_error *e)
{
	return dcfs_image_table_list(s, kind, out, n, e);
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
	int64_t id;
	int r = dcfs_image_id(s, ref, &id, e);
	if (r < 0)
		return r;
	if (image_in_use(s, id))
		return dcfs_error_set(e, EBUSY, "image '%s' is in use by a mount; unmount it first", ref);
	_cleanup_free_ char *user = NULL;
	r = dcfs_container_table_image_user(s, id, &user, e);
	if (r < 0)
		return r;
	if (r > 0)
		return dcfs_error_set(e, EBUSY, "image '%s' is used by container '%s' (remove it with 'dcfs rm')",
				      ref, user);
	r = dcfs_image_delete(s->db, ref, e);
	if (r < 0)
		return r;
	if (r == 0)
		return dcfs_error_set(e, ENOENT, "no such image: '%s'", ref);
	return 0;
}

struct by_digest {
	const char *hex;
	char **config_json;
};

static int config_matches(const char *config, size_t len, void *u)
{
	struct by_digest *d = u;
	dcfs_hash h;
	char hex[DCFS_HASH_HEX];
	dcfs_hash_buf(config, len, &h);
	dcfs_hash_to_hex(&h, hex);
	if (strcmp(hex, d->hex))
		return 0;
	*d->config_json = strndup(config, len);
	return *d->config_json ? 1 : -ENOMEM;
}

int dcfs_image_config_by_digest(dcfs_store *s, const char *digest, char **config_json, dcfs_error *e)
{
	*config_json = NULL;
	if (strncmp(digest, "sha256:", 7) || strlen(digest) != 7 + 64)
		return 0;
	struct by_digest d = {.hex = digest + 7, .config_json = config_json};
	int r = dcfs_image_each_config(s, config_matches, &d, e);
	return r == -ENOMEM ? dcfs_error_set(e, ENOMEM, "out of memory") : r;
}
