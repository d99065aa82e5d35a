/* What confines a container (see runtime.h): its capability set and its seccomp filter, from
 * capAdd, privileged, securityOpt and --cap-drop, checked before anything is started. */
#include "capability.h"
#include "runtime.h"
#include "seccomp.h"
#include "security_opt.h"

static int make(const cJSON *config, const cJSON *cap_drop, const char *where,
		dcfs_confinement *out, dcfs_error *e)
{
	const cJSON *cap_add = cJSON_GetObjectItemCaseSensitive(config, "capAdd");
	bool privileged = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "privileged"));
	int r = dcfs_caps_check(cap_add, e);
	if (r < 0)
		return dcfs_error_wrap(e, "%s: capAdd", where);
	if ((r = dcfs_caps_resolve(cap_add, cap_drop, privileged, &out->caps, e)) < 0)
		return dcfs_error_wrap(e, "%s: runArgs --cap-drop", where);
	dcfs_security sec = {0};
	r = dcfs_security_opts_apply(
		&sec, cJSON_GetObjectItemCaseSensitive(config, "securityOpt"), e);
	out->no_new_privileges = sec.no_new_privileges;
	/* Docker: a privileged container has no filter; a profile named is still read (the
	 * docker CLI refuses one it cannot read) */
	if (r == 0 && !sec.seccomp_unconfined && (!privileged || sec.seccomp_profile))
		r = dcfs_seccomp_for(sec.seccomp_profile, out->caps, &out->seccomp, e);
	if (r == 0 && privileged) {
		cJSON_Delete(out->seccomp);
		out->seccomp = NULL;
	}
	dcfs_security_free(&sec);
	return r < 0 ? dcfs_error_wrap(e, "%s: securityOpt", where) : 0;
}

int dcfs_confinement_make(const cJSON *config, const cJSON *cap_drop, const char *where,
			  dcfs_confinement *out, dcfs_error *e)
{
	*out = (dcfs_confinement){0};
	int r = make(config, cap_drop, where, out, e);
	if (r < 0)
		dcfs_confinement_free(out);
	return r;
}

void dcfs_confinement_free(dcfs_confinement *c)
{
	cJSON_Delete(c->caps);
	cJSON_Delete(c->seccomp);
	*c = (dcfs_confinement){0};
}
