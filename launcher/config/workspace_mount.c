/* workspaceMount: parsing Docker's --mount syntax strictly (see workspace_mount.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "devcontainer.h"
#include "workspace_mount.h"

static int check_fields(dcfs_workspace_mount *m, const char *where, dcfs_error *e)
{
	if (!m->type && !(m->type = strdup("volume")))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (strcmp(m->type, "bind") && strcmp(m->type, "volume"))
		return dcfs_error_set(e, ENOTSUP,
				      "%s: workspaceMount: type '%s' is not supported (bind, volume)",
				      where, m->type);
	if (!m->target || m->target[0] != '/')
		return dcfs_error_set(e, EINVAL, "%s: workspaceMount: needs an absolute target, not '%s'",
				      where, m->target ? m->target : "");
	if (!m->source || !*m->source)
		return dcfs_error_set(e, EINVAL, "%s: workspaceMount: a %s mount needs a source", where,
				      m->type);
	if (!strcmp(m->type, "bind") && m->source[0] != '/')
		return dcfs_error_set(e, EINVAL,
				      "%s: workspaceMount: the bind source '%s' is not an absolute path",
				      where, m->source);
	char *clean = !strcmp(m->type, "bind") ? dcfs_host_path_absolute(m->source) : NULL;
	if (clean) /* "/a/b/.." is "/a" */
		free(m->source), m->source = clean;
	if (!strcmp(m->type, "volume") &&
	    (strchr(m->source, '/') || !strcmp(m->source, "..") || !strcmp(m->source, ".")))
		return dcfs_error_set(e, EINVAL, "%s: workspaceMount: bad volume name '%s'", where,
				      m->source);
	return 0;
}

int dcfs_workspace_mount_parse(const char *text, const char *where, dcfs_workspace_mount *out,
			       dcfs_error *e)
{
	_cleanup_free_ char *label = NULL;
	if (asprintf(&label, "%s: workspaceMount", where) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int r = dcfs_mount_spec_parse(text, label, out, e);
	r = r ?: check_fields(out, where, e);
	if (r < 0)
		dcfs_mount_spec_free(out);
	return r;
}

int dcfs_workspace_mount_check(const dcfs_workspace_mount *m, const char *where, dcfs_error *e)
{
	struct stat st;
	if (strcmp(m->type, "bind"))
		return 0;
	if (stat(m->source, &st) < 0)
		return dcfs_error_set(e, errno, "%s: workspaceMount: bind source path does not exist: %s",
				      where, m->source);
	if (!S_ISDIR(st.st_mode))
		return dcfs_error_set(e, ENOTDIR, "%s: workspaceMount: the bind source '%s' is not a folder",
				      where, m->source);
	return 0;
}

char *dcfs_workspace_mount_path_of(const dcfs_workspace_mount *m, const char *folder)
{
	if (!m->type || strcmp(m->type, "bind"))
		return NULL;
	size_t n = strlen(m->source);
	while (n > 1 && m->source[n - 1] == '/')
		n--;
	if (n == 1)
		n = 0; /* the source is "/" */
	if (strncmp(folder, m->source, n) || (folder[n] && folder[n] != '/'))
		return NULL;
	const char *rest = folder + n;
	size_t t = strlen(m->target);
	bool slash = t > 0 && m->target[t - 1] == '/';
	char *out = NULL;
	if (asprintf(&out, "%.*s%s", (int)(slash && *rest ? t - 1 : t), m->target, rest) < 0)
		return NULL;
	return out;
}

void dcfs_workspace_mount_free(dcfs_workspace_mount *m)
{
	dcfs_mount_spec_free(m);
}
