/* A folder's names in bytewise order: the listing shared by the walks whose result must not
 * depend on readdir's order (a folder imported as a layer, the build key's context walk). */
#pragma once

#include <dirent.h>
#include <stddef.h>

typedef struct dcfs_dir_name {
	char *name;
	unsigned char dtype; /* readdir's d_type (DT_UNKNOWN when the filesystem does not say) */
} dcfs_dir_name;

/* The names of the open folder `d` but "." and "..", sorted by strcmp: 0 with *out (release
 * with dcfs_dir_names_free) and *count, or -errno (-ENOMEM, readdir's error). */
int dcfs_dir_names(DIR *d, dcfs_dir_name **out, size_t *count);
void dcfs_dir_names_free(dcfs_dir_name *names, size_t count);
