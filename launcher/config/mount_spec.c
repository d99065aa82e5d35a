/* Docker's --mount syntax, parsed strictly (see mount_spec.h). */
#include "mount_spec.h"

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

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

static int set_key(dcfs_mount_spec *m, const char *key, const char *value, const char *label,
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
				      "%s: unknown key '%s' (type, source, target, readonly, "
				      "consistency)",
				      label, key);
	if (slot && !value)
		return dcfs_error_set(e, EINVAL, "%s: '%s' needs a value", label, key);
	if (slot && !(free(*slot), *slot = strdup(value)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

int dcfs_mount_spec_parse(const char *text, const char *label, dcfs_mount_spec *out,
			  dcfs_error *e)
{
	*out = (dcfs_mount_spec){0};
	int r = 0;
	for (const char *p = text; r == 0 && *p;) {
		_cleanup_free_ char *field = next_field(&p);
		if (!field)
			r = dcfs_error_set(e, ENOMEM, "out of memory");
		else if (*field) {
			char *v = strchr(field, '=');
			if (v)
				*v++ = 0;
			r = set_key(out, field, v, label, e);
		}
	}
	if (r < 0)
		dcfs_mount_spec_free(out);
	return r;
}

void dcfs_mount_spec_free(dcfs_mount_spec *m)
{
	free(m->type);
	free(m->source);
	free(m->target);
	*m = (dcfs_mount_spec){0};
}
