/* devcontainer.json `mounts` to OCI mounts. Docker's --mount syntax is accepted as a string
 * ("type=bind,source=/a,target=/b,readonly") or as an object {type, source, target}. Bind
 * mounts pass a host path through (an absolute one: runc would take a relative source from
 * the bundle's folder, inside the store; Docker refuses it); a volume is a folder
 * STORE/volumes/<name>/ bound in. Other types (tmpfs, npipe) are refused. */
#include <string.h>

#include "cleanup.h"
#include "fsutil.h"
#include "jsonc.h"
#include "runtime.h"

typedef struct mount_spec {
	char *type, *source, *target;
	bool readonly;
} mount_spec;

static void spec_free(mount_spec *m)
{
	free(m->type);
	free(m->source);
	free(m->target);
}

static int parse_string(const char *text, mount_spec *m)
{
	_cleanup_free_ char *copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	for (char *p = copy, *tok; (tok = strsep(&p, ","));) {
		char *v = strchr(tok, '=');
		if (v)
			*v++ = 0;
		char **slot = NULL;
		if (!strcmp(tok, "type"))
			slot = &m->type;
		else if (!strcmp(tok, "source") || !strcmp(tok, "src"))
			slot = &m->source;
		else if (!strcmp(tok, "target") || !strcmp(tok, "dst") || !strcmp(tok, "destination"))
			slot = &m->target;
		else if (!strcmp(tok, "readonly") || !strcmp(tok, "ro"))
			m->readonly = !v || strcmp(v, "false");
		if (slot && v) {
			free(*slot);
			*slot = strdup(v);
		}
	}
	return 0;
}

static void parse_object(const cJSON *o, mount_spec *m)
{
	const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "type"));
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "source"));
	const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "target"));
	m->type = t ? strdup(t) : NULL;
	m->source = s ? strdup(s) : NULL;
	m->target = d ? strdup(d) : NULL;
	m->readonly = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "readonly"));
}

static int to_oci(const mount_spec *m, const char *volumes_dir, cJSON *out, dcfs_error *e)
{
	const char *type = m->type ? m->type : "bind";
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
			return dcfs_error_set(e, EINVAL, "mount: bad volume name '%s'", m->source);
		if (!volumes_dir)
			return 0; /* checking only */
		if (asprintf(&source, "%s/%s", volumes_dir, m->source) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		if (dcfs_mkdir_p(source, 0755) < 0)
			return dcfs_error_set(e, errno, "cannot create volume '%s': %m", source);
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
		mount_spec m = {0};
		int r = 0;
		if (cJSON_IsString(it))
			r = parse_string(it->valuestring, &m);
		else if (cJSON_IsObject(it))
			parse_object(it, &m);
		else
			continue;
		if (r < 0)
			r = dcfs_error_set(e, r, "out of memory");
		else
			r = to_oci(&m, volumes_dir, out, e);
		spec_free(&m);
		if (r < 0)
			return r;
	}
	return 0;
}
