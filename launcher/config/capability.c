/* The capability table (see capability.h): names by number, as in linux/capability.h, and
 * Docker's default set. */
#include "capability.h"

#include <string.h>
#include <strings.h>
#include <sys/prctl.h>

#include "cleanup.h"

#define CAP_ALL (-2)

/* By number (linux/capability.h). */
static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

/* Docker's default capability set. */
static const char *const default_caps[] = {
	"CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",		  "CAP_FOWNER",
	"CAP_MKNOD",  "CAP_NET_RAW",	  "CAP_SETGID",		  "CAP_SETUID",
	"CAP_SETFCAP", "CAP_SETPCAP",	  "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
	"CAP_KILL",   "CAP_AUDIT_WRITE",
};

int dcfs_cap_number(const char *name)
{
	if (!strcasecmp(name, "ALL"))
		return CAP_ALL;
	const char *bare = strncasecmp(name, "CAP_", 4) ? name : name + 4;
	for (size_t i = 0; i < ELEMENTSOF(cap_names); i++)
		if (!strcasecmp(bare, cap_names[i] + 4))
			return (int)i;
	return -1;
}

const char *dcfs_cap_name(int number)
{
	return number >= 0 && (size_t)number < ELEMENTSOF(cap_names) ? cap_names[number] : NULL;
}

int dcfs_caps_check(const cJSON *names, dcfs_error *e)
{
	if (names && !cJSON_IsArray(names))
		return dcfs_error_set(e, EINVAL, "expected an array of capability names");
	const cJSON *it;
	cJSON_ArrayForEach(it, names)
	{
		const char *name = cJSON_GetStringValue(it);
		if (!name)
			return dcfs_error_set(e, EINVAL, "expected capability names");
		if (dcfs_cap_number(name) == -1)
			return dcfs_error_set(e, EINVAL, "unknown capability '%s'", name);
	}
	return 0;
}

static bool listed(const cJSON *names, int number)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, names)
		if (dcfs_cap_number(cJSON_GetStringValue(it)) == number)
			return true;
	return false;
}

/* Add capability `number` to `caps` once, when this process's bounding set holds it (runc
 * cannot give what it does not have). */
static void add(cJSON *caps, int number)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, caps) if (!strcmp(it->valuestring, cap_names[number])) return;
	if (prctl(PR_CAPBSET_READ, (unsigned long)number, 0, 0, 0) == 1)
		cJSON_AddItemToArray(caps, cJSON_CreateString(cap_names[number]));
}

int dcfs_caps_resolve(const cJSON *add_names, const cJSON *drop, bool privileged, cJSON **out,
		      dcfs_error *e)
{
	int r = dcfs_caps_check(add_names, e);
	if (r < 0 || (r = dcfs_caps_check(drop, e)) < 0)
		return r;
	cJSON *caps = cJSON_CreateArray();
	if (!caps)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	const cJSON *it;
	if (privileged || listed(add_names, CAP_ALL)) {
		for (int i = 0; i < (int)ELEMENTSOF(cap_names); i++)
			if (privileged || !listed(drop, i))
				add(caps, i);
	} else {
		if (!listed(drop, CAP_ALL))
			for (size_t i = 0; i < ELEMENTSOF(default_caps); i++) {
				int n = dcfs_cap_number(default_caps[i]);
				if (!listed(drop, n))
					add(caps, n);
			}
		cJSON_ArrayForEach(it, add_names) add(caps, dcfs_cap_number(it->valuestring));
	}
	*out = caps;
	return 0;
}
