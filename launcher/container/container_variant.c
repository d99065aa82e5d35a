/* Which of a folder's containers is meant: each configuration of a folder (`up --config FILE`)
 * gets a container of its own; the default configuration's is known by the folder alone, the
 * others' (variants) by the folder and the file (see container.h). Commands that act on a
 * folder's container take --config to pick one, and without it refuse to guess among several. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "container.h"
#include "devcontainer.h"
#include "strbuf.h"

int dcfs_container_variant(const char *folder, const char *config_file, bool given,
			   char **variant)
{
	*variant = NULL;
	if (!given)
		return 0;
	_cleanup_free_ char *found = NULL;
	_cleanup_error_ dcfs_error none = {0}; /* no default (none, or several): a variant */
	_cleanup_free_ char *found_abs = dcfs_devcontainer_find(folder, &found, &none) == 0
						 ? dcfs_host_path_absolute(found)
						 : NULL;
	if (found_abs && !strcmp(found_abs, config_file))
		return 0;
	return (*variant = strdup(config_file)) ? 0 : -ENOMEM;
}

/* ", NAME (--config FILE)" for one of the folder's containers, added to `names`. */
static int name_one(dcfs_strbuf *names, const dcfs_container *c)
{
	_cleanup_free_ char *item = NULL;
	if (asprintf(&item, "%s%s (--config %s%s)", names->s ? ", " : "", c->name,
		     c->config_file ? c->config_file : "?", c->variant ? "" : ", the default") < 0)
		return -ENOMEM;
	return dcfs_strbuf_put(names, item, strlen(item));
}

/* Without --config: the folder's only container, or a message listing its containers. */
static int only_one(dcfs_store *s, const char *folder, dcfs_container *out, dcfs_error *e)
{
	dcfs_container *list = NULL;
	size_t n = 0, mine = 0, pick = 0;
	int r = dcfs_container_list(s, &list, &n, e);
	dcfs_strbuf names = {0};
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (!list[i].folder || strcmp(list[i].folder, folder))
			continue;
		if (mine++ == 0)
			pick = i;
		if (name_one(&names, &list[i]) < 0)
			r = dcfs_error_set(e, ENOMEM, "out of memory");
	}
	if (r >= 0 && mine == 0)
		r = dcfs_error_set(e, ENOENT, "no dev container for '%s' (see 'dcfs up')", folder);
	else if (r >= 0 && mine > 1)
		r = dcfs_error_set(e, EINVAL,
				   "several dev containers for '%s': %s; choose one with --config FILE",
				   folder, names.s);
	if (r >= 0) {
		*out = list[pick];
		list[pick] = (dcfs_container){0};
	}
	free(names.s);
	dcfs_container_list_free(list, n);
	return r < 0 ? r : 0;
}

int dcfs_container_of(dcfs_store *s, const char *folder, const char *config,
		      dcfs_container *out, dcfs_error *e)
{
	_cleanup_free_ char *abs = dcfs_host_path_absolute(folder ? folder : ".");
	_cleanup_free_ char *file = config ? dcfs_host_path_absolute(config) : NULL, *variant = NULL;
	if (!abs || (config && !file) || dcfs_container_variant(abs, file, config, &variant) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (!config)
		return only_one(s, abs, out, e);
	int r = dcfs_container_find_variant(s, abs, variant, out, e);
	if (r == -ENOENT)
		return dcfs_error_set(e, ENOENT,
				      "no dev container for '%s' with configuration '%s' (see 'dcfs up "
				      "--config')",
				      abs, file);
	return r;
}
