/* Mounts of the create body (HostConfig.Mounts): devcontainer.json `mounts` entries (--mount
 * strings or {type, source, target} objects), runArgs' --mount, -v and --tmpfs. Named volumes
 * carry the spec's volume labels (VolumeOptions.Labels) so that the engine creates them
 * labelled. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "engine_flags_internal.h"
#include "mount_spec.h"

static int mount_error(spec_ctx *c, const char *label, const char *why, const char *what)
{
	return dcfs_error_set(c->e, EINVAL, "%s: %s '%s'", label, why, what ? what : "");
}

/* One HostConfig.Mounts entry; a volume gets the volume labels. */
static int mount_put(spec_ctx *c, const char *type, const char *src, const char *dst, bool ro)
{
	cJSON *m = cJSON_CreateObject();
	if (!m || !cJSON_AddStringToObject(m, "Type", type) ||
	    (src && *src && !cJSON_AddStringToObject(m, "Source", src)) ||
	    !cJSON_AddStringToObject(m, "Target", dst) || (ro && !cJSON_AddTrueToObject(m, "ReadOnly"))) {
		cJSON_Delete(m);
		return -ENOMEM;
	}
	if (!strcmp(type, "volume") && c->s->volume_labels) {
		cJSON *vo = cJSON_AddObjectToObject(m, "VolumeOptions");
		cJSON *l = cJSON_Duplicate(c->s->volume_labels, true);
		if (!vo || !l || !cJSON_AddItemToObject(vo, "Labels", l)) {
			cJSON_Delete(l);
			cJSON_Delete(m);
			return -ENOMEM;
		}
	}
	return spec_append(spec_array(c->host, "Mounts"), m);
}

static int mount_checked(spec_ctx *c, const char *label, const char *type, const char *src,
			 const char *dst, bool ro)
{
	type = type ? type : "volume";
	if (strcmp(type, "bind") && strcmp(type, "volume") && strcmp(type, "tmpfs"))
		return mount_error(c, label, "unsupported mount type", type);
	if (!dst || dst[0] != '/')
		return mount_error(c, label, "the target must be an absolute path:", dst);
	if (!strcmp(type, "bind") && (!src || src[0] != '/'))
		return mount_error(c, label, "the source of a bind mount must be an absolute path:",
				   src);
	if (!strcmp(type, "tmpfs") && src && *src)
		return mount_error(c, label, "a tmpfs mount takes no source:", src);
	return mount_put(c, type, src, dst, ro);
}

static const char *str_of(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

int spec_mount_add(spec_ctx *c, const cJSON *m, const char *label)
{
	if (cJSON_IsObject(m))
		return mount_checked(c, label, str_of(m, "type"), str_of(m, "source"),
				     str_of(m, "target"), false);
	if (!cJSON_IsString(m))
		return dcfs_error_set(c->e, EINVAL, "%s: expected a string or an object", label);
	dcfs_mount_spec ms = {0};
	int r = dcfs_mount_spec_parse(m->valuestring, label, &ms, c->e);
	if (r >= 0)
		r = mount_checked(c, label, ms.type, ms.source, ms.target, ms.readonly);
	dcfs_mount_spec_free(&ms);
	return r;
}

int spec_mounts_add(spec_ctx *c, const cJSON *mounts, const char *label)
{
	int i = 0;
	const cJSON *m;
	cJSON_ArrayForEach(m, mounts) {
		_cleanup_free_ char *l = NULL;
		if (asprintf(&l, "%s[%d]", label, i++) < 0)
			return -ENOMEM;
		int r = spec_mount_add(c, m, l);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The -v options docker accepts (comma-separated). */
static bool volume_opts_valid(const char *opts, bool *ro, bool *plain)
{
	static const char *const known[] = {"ro", "rw", "z", "Z", "nocopy", "shared", "rshared",
					    "slave", "rslave", "private", "rprivate", "delegated",
					    "cached", "consistent", NULL};
	_cleanup_free_ char *copy = strdup(opts);
	char *p = copy, *o;
	while (p && (o = strsep(&p, ","))) {
		size_t i = 0;
		while (known[i] && strcmp(known[i], o))
			i++;
		if (!known[i])
			return false;
		*ro = *ro || !strcmp(o, "ro");
		*plain = *plain && (!strcmp(o, "ro") || !strcmp(o, "rw"));
	}
	return copy != NULL;
}

int spec_volume_flag(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)f;
	_cleanup_free_ char *copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	char *p = copy;
	char *a = strsep(&p, ":"), *b = strsep(&p, ":"), *opts = p;
	if (!b) /* an anonymous volume */
		return a[0] == '/' ? spec_put(spec_object(c->body, "Volumes"), a,
					      cJSON_CreateObject())
				   : spec_flag_error(c, EINVAL, "expected [SOURCE:]TARGET[:OPTIONS] in '%s'", v);
	bool ro = false, plain = true;
	if (!*a || b[0] != '/' || (opts && !volume_opts_valid(opts, &ro, &plain)))
		return spec_flag_error(c, EINVAL, "expected [SOURCE:]TARGET[:OPTIONS] in '%s'", v);
	if (a[0] != '/' && (strchr(a, '/') || a[0] == '.'))
		return spec_flag_error(c, EINVAL, "the source of a bind mount must be an absolute "
						  "path: '%s'", a);
	if (a[0] != '/' && plain) /* a named volume: made with the volume labels */
		return mount_put(c, "volume", a, b, ro);
	return spec_append_string(c->host, "Binds", v);
}

int spec_tmpfs_flag(spec_ctx *c, const spec_flag *f, const char *v)
{
	(void)f;
	_cleanup_free_ char *path = strndup(v, strcspn(v, ":"));
	if (!path)
		return -ENOMEM;
	if (path[0] != '/')
		return spec_flag_error(c, EINVAL, "expected an absolute path in '%s'", v);
	const char *opts = v[strlen(path)] ? v + strlen(path) + 1 : "";
	return spec_put_string(spec_object(c->host, "Tmpfs"), path, opts);
}
