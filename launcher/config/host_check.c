/* hostRequirements against this machine (see config_check.h): the online CPUs, the memory
 * (MemTotal, as sysinfo reports it) and the free space of the store's filesystem; a warning
 * naming each requirement not met and what the machine has. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "cleanup.h"
#include "config_check.h"

/* "15.6 GiB" */
static void human(double bytes, char out[32])
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
	size_t u = 0;
	while (bytes >= 1024 && u + 1 < ELEMENTSOF(units))
		bytes /= 1024, u++;
	snprintf(out, 32, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

/* The free space of the filesystem `path` is on (of its nearest existing parent when it does
 * not exist yet: `up` creates the store). */
static int free_space(const char *path, double *out)
{
	_cleanup_free_ char *p = strdup(path);
	struct statvfs st;
	while (p && statvfs(p, &st) < 0) {
		char *slash = strrchr(p, '/');
		if (!slash || !strcmp(p, "/"))
			return -ENOENT;
		slash[slash == p ? 1 : 0] = '\0';
	}
	if (!p)
		return -ENOMEM;
	*out = (double)st.f_bavail * (double)st.f_frsize;
	return 0;
}

int dcfs_host_facts_read(const char *store_path, dcfs_host_facts *out)
{
	struct sysinfo si;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1 || sysinfo(&si) < 0)
		return -errno;
	out->cpus = cpus;
	out->memory = (double)si.totalram * (double)si.mem_unit;
	out->store_path = store_path;
	return free_space(store_path, &out->storage_free);
}

static int add(dcfs_diags *w, const char *name, const dcfs_jsonc_positions *pos, const cJSON *item,
	       const char *what, const char *has)
{
	const dcfs_jsonc_place *p = dcfs_jsonc_place_of(pos, item);
	return dcfs_diags_add(w, "%s:%d:%d: hostRequirements.%s: %s required, %s", name,
			      p ? p->key_line : 1, p ? p->key_col : 1, item->string, what, has);
}

/* A size (memory or storage) not met: true, with the size written in `what` and what the machine
 * has in `have_text`. */
static bool size_unmet(const cJSON *item, double have, char what[128], char have_text[32])
{
	double need;
	if (!cJSON_IsString(item) || !dcfs_config_size(item->valuestring, &need) || need <= have)
		return false;
	snprintf(what, 128, "\"%s\"", item->valuestring);
	human(have, have_text);
	return true;
}

int dcfs_host_requirements_check(const cJSON *req, const dcfs_host_facts *host,
				 const dcfs_config_check_opts *o, dcfs_diags *w)
{
	const cJSON *cpus = cJSON_GetObjectItemCaseSensitive(req, "cpus");
	int r = 0;
	if (cJSON_IsNumber(cpus) && cpus->valuedouble > (double)host->cpus) {
		char what[32], has[64];
		snprintf(what, sizeof(what), "%.0f CPUs", cpus->valuedouble);
		snprintf(has, sizeof(has), "this machine has %ld online", host->cpus);
		r = add(w, o->name, o->pos, cpus, what, has);
	}
	const cJSON *mem = cJSON_GetObjectItemCaseSensitive(req, "memory");
	const cJSON *disk = cJSON_GetObjectItemCaseSensitive(req, "storage");
	char what[128], have[32], has[PATH_MAX + 96];
	if (r == 0 && size_unmet(mem, host->memory, what, have)) {
		snprintf(has, sizeof(has), "this machine has %s of memory", have);
		r = add(w, o->name, o->pos, mem, what, has);
	}
	if (r == 0 && size_unmet(disk, host->storage_free, what, have)) {
		snprintf(has, sizeof(has), "the store's filesystem (%s) has %s free",
			 host->store_path, have);
		r = add(w, o->name, o->pos, disk, what, has);
	}
	return r;
}
