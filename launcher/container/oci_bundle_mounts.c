/* devcontainer.json `mounts` to OCI mounts. Docker's --mount syntax is accepted as a string
 * ("type=bind,source=/a,target=/b,readonly") or as an object {type, source, target}. Bind
 * mounts pass a host path through (an absolute one: runc would take a relative source from
 * the bundle's folder, inside the store; Docker refuses it); a volume is a folder
 * STORE/volumes/<name>/ bound in; without a type, a mount is a volume, as in Docker. Other types
 * (tmpfs, npipe) and keys dcfs does not act on (bind-propagation, volume-opt, ...) are
 * refused by name. */
#include <string.h>

#include "cleanup.h"
#include "fsutil.h"
#include "jsonc.h"
#include "mount_spec.h"
#include "runtime.h"

static int parse_object(const cJSON *o, dcfs_mount_spec *m)
{
	const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "type"));
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "source"));
	const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "target"));
	m->type = t ? strdup(t) : NULL;
	m->source = s ? strdup(s) : NULL;
	m->target = d ? strdup(d) : NULL;
	m->readonly = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "readonly"));
	return (t && !m->type) || (s && !m->source) || (d && !m->target) ? -ENOMEM : 0;
}

static int to_oci(const dcfs_mount_spec *m, const char *volumes_dir, cJSON *out, dcfs_error *e)
{
	const char *type = m->type ? m->type : "volume"; /* Docker's default */
	if (!m->source || !*m->source || !m->target || m->target[0] != '/')
		return dcfs_error_set(e, EINVAL, "mount: a %s mount needs a source and an absolute target",
				      type);
	_cleanup_free_ char *source = NULL;
	if (!strcmp(type, "bind") && m->source[0] != '/')
		return dcfs_error_set(e, EINVAL,
				      "mount: the source of a bind mount must be an absolute path, not "
				      "'%s'",
				      m->source);
	if (!strcmp(type, "volume")) {
		if (strchr(m->source, '/') || !strcmp(m->source, "..") || !strcmp(m->source, "."))
			return dcfs_error_set(e, EINVAL, "mount: bad volume name '%s'%s", m->source,
					      m->type ? "" : " (a mount without a type is a volume, "
							     "as in Docker: add type=bind)");
		if (!volumes_dir)
			return 0; /* checking only */
		if (asprintf(&source, "%s/%s", volumes_dir, m->source) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		int r = dcfs_mkdir_p(source, 0755);
		if (r < 0)
			return dcfs_error_set(e, r, "cannot create volume '%s': %s", source,
					      strerror(-r));
	} else if (strcmp(type, "bind")) {
		return dcfs_error_set(e, ENOTSUP, "mount: type '%s' is not supported (bind, volume)",
				      type);
	} else if (!volumes_dir) {
		return 0;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "destination", m->target);
	cJSON_AddStringToObject(o, "type", "bind");
	cJSON_AddStringToObject(o, "source", source ? source : m->source);
	cJSON *opts = cJSON_AddArrayToObject(o, "options");
	cJSON_AddItemToArray(opts, cJSON_CreateString("rbind"));
	cJSON_AddItemToArray(opts, cJSON_CreateString(m->readonly ? "ro" : "rw"));
	cJSON_AddItemToArray(out, o);
	return 0;
}

int dcfs_mounts_convert(const cJSON *mounts, const char *volumes_dir, cJSON *out, dcfs_error *e)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, mounts)
	{
		dcfs_mount_spec m = {0};
		int r = 0;
		if (cJSON_IsString(it))
			r = dcfs_mount_spec_parse(it->valuestring, "mounts", &m, e);
		else if (cJSON_IsObject(it) && parse_object(it, &m) < 0)
			r = dcfs_error_set(e, ENOMEM, "out of memory");
		else if (!cJSON_IsObject(it))
			continue;
		r = r ?: to_oci(&m, volumes_dir, out, e);
		dcfs_mount_spec_free(&m);
		if (r < 0)
			return r;
	}
	return 0;
}
