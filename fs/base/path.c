/* Normalizing paths inside an image (see path.h). */
#include "path.h"

#include <stdlib.h>
#include <string.h>

int dcfs_path_normalize(const char *in, char **out)
{
	size_t n = strlen(in);
	char *res = malloc(n + 1);
	if (!res)
		return -ENOMEM;
	size_t len = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t clen = (size_t)(end - p);
		if (clen == 0 || (clen == 1 && p[0] == '.')) {
			/* nothing */
		} else if (clen == 2 && p[0] == '.' && p[1] == '.') {
			free(res);
			return -EPERM;
		} else {
			if (len)
				res[len++] = '/';
			memcpy(res + len, p, clen);
			len += clen;
		}
		p = end;
	}
	res[len] = '\0';
	*out = res;
	return 0;
}

char *dcfs_path_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? strndup(path, (size_t)(slash - path)) : strdup("");
}

const char *dcfs_path_base(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}
