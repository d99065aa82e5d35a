/* workspaceMount: parsing Docker's --mount syntax strictly (see workspace_mount.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "devcontainer.h"
#include "workspace_mount.h"

/* The next CSV field of *p, unquoted ("" inside quotes is one "), into a new string; *p moves
 * past its comma. NULL when out of memory. */
static char *next_field(const char **p)
{
	const char *s = *p;
	char *out = malloc(strlen(s) + 1), *o = out;
	if (!out)
		return NULL;
	bool quoted = *s == '"';
	for (s += quoted; *s; s++) {
		if (quoted && *s == '"' && s[1] == '"')
			*o++ = *s++;
		else if (quoted && *s == '"')
			quoted = false;
		else if (!quoted && *s == ',')
			break;
		else
			*o++ = *s;
	}
	*o = 0;
	*p = *s == ',' ? s + 1 : s;
	return out;
}

static int set_key(dcfs_workspace_mount *m, const char *key, const char *value, const char *where,
		   dcfs_error *e)
{
	char **slot = NULL;
	if (!strcmp(key, "type"))
		slot = &m->type;
	else if (!strcmp(key, "source") || !strcmp(key, "src"))
		slot = &m->source;
	else if (!strcmp(key, "target") || !strcmp(key, "dst") || !strcmp(key, "destination"))
		slot = &m->target;
	else if (!strcmp(key, "readonly") || !strcmp(key, "ro"))
		m->readonly = !value || (strcmp(value, "false") && strcmp(value, "0"));
	else if (strcmp(key, "consistency"))
		return dcfs_error_set(e, EINVAL,
				      "%s: workspaceMount: unknown key '%s' (type, source, target, "
				      "readonly, consistency)",
				      where, key);
	if (slot && !value)
		return dcfs_error_set(e, EINVAL, "%s: workspaceMount: '%s' needs a value", where, key);
	if (slot && !(free(*slot), *slot = strdup(value)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

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
	char *clean = !strcmp(m->type, "bind") ? dcfs_path_resolve(m->source) : NULL;
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
	*out = (dcfs_workspace_mount){0};
	int r = 0;
	for (const char *p = text; r == 0 && *p;) {
		_cleanup_free_ char *field = next_field(&p);
		if (!field)
			r = dcfs_error_set(e, ENOMEM, "out of memory");
		else if (*field) {
			char *v = strchr(field, '=');
			if (v)
				*v++ = 0;
			r = set_key(out, field, v, where, e);
		}
	}
	r = r ?: check_fields(out, where, e);
	if (r < 0)
		dcfs_workspace_mount_free(out);
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
	free(m->type);
	free(m->source);
	free(m->target);
	*m = (dcfs_workspace_mount){0};
}
