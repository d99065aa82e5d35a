/* Finding chunk files without a catalog row (see orphans.h). */
#include "orphans.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "chunk_table.h"
#include "cleanup.h"

/* A catalog error stops the scan: a file whose row could not be looked up is not an orphan. */
static int scan_dir(DIR *d, dcfs_chunk_finder *q, bool remove, uint64_t *count, uint64_t *bytes,
		    dcfs_error *e)
{
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		dcfs_hash h;
		if (dcfs_hash_from_hex(de->d_name, &h)) {
			dcfs_chunk_found found;
			int known = dcfs_chunk_finder_find(q, &h, &found, e);
			if (known < 0)
				return known;
			if (known)
				continue;
		}
		struct stat sb;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (remove && unlinkat(dirfd(d), de->d_name, 0) < 0)
			continue;
		(*count)++;
		*bytes += (uint64_t)sb.st_size;
	}
	return 0;
}

int dcfs_store_orphans(dcfs_store *s, bool remove, uint64_t *count, uint64_t *bytes, dcfs_error *e)
{
	_cleanup_(dcfs_catalog_finder_free) dcfs_chunk_finder q = {0};
	int r = dcfs_chunk_finder_init(&q, s->db, e);
	if (r < 0)
		return r;
	for (int i = 0; i < 256; i++) {
		char sub[3];
		snprintf(sub, sizeof(sub), "%02x", i);
		int fd = openat(s->chunks_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		_cleanup_closedir_ DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			continue;
		}
		r = scan_dir(d, &q, remove, count, bytes, e);
		if (r < 0)
			return r;
	}
	return 0;
}
