/* Listing a folder's names in bytewise order (see dir_names.h). */
#include "dir_names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const dcfs_dir_name *)a)->name, ((const dcfs_dir_name *)b)->name);
}

void dcfs_dir_names_free(dcfs_dir_name *names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i].name);
	free(names);
}

int dcfs_dir_names(DIR *d, dcfs_dir_name **out, size_t *count)
{
	dcfs_dir_name *names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (DCFS_GROW(names, cap, n, 32) < 0 || !(names[n].name = strdup(de->d_name))) {
			dcfs_dir_names_free(names, n);
			return -ENOMEM;
		}
		names[n++].dtype = de->d_type;
	}
	if (errno) {
		int err = errno;
		dcfs_dir_names_free(names, n);
		return -err;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_name);
	*out = names;
	*count = n;
	return 0;
}
