/* The OCI bundle's config.json for a dev container (runtime spec 1.0): the process, the root,
 * the standard mounts (proc, a tmpfs /dev with devpts, shm and mqueue, sysfs read-only), pid,
 * ipc, uts and mount namespaces (the host's network, as the reference CLI's default has it on
 * these machines), the capabilities and seccomp filter of oci_bundle_security.c, rlimits capped at
 * the host's hard limits, and no-new-privileges when asked for. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "jsonc.h"
#include "runtime.h"

static const char *const masked_paths[] = {
	"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware",
};
static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

int dcfs_env_set(cJSON *env, const char *key, const char *value)
{
	size_t klen = strlen(key);
	_cleanup_free_ char *kv = NULL;
	if (asprintf(&kv, "%s=%s", key, value) < 0)
		return -ENOMEM;
	int i = 0;
	for (cJSON *it = env->child; it; it = it->next, i++) {
		const char *s = cJSON_GetStringValue(it);
		if (s && !strncmp(s, key, klen) && s[klen] == '=')
			return cJSON_ReplaceItemInArray(env, i, cJSON_CreateString(kv)) ? 0 : -ENOMEM;
	}
	return cJSON_AddItemToArray(env, cJSON_CreateString(kv)) ? 0 : -ENOMEM;
}

static cJSON *string_array(const char *const *v, size_t n)
{
	return cJSON_CreateStringArray(v, (int)n);
}

static cJSON *capabilities(const dcfs_bundle *b)
{
	cJSON *c = cJSON_CreateObject();
	static const char *const sets[] = {"bounding", "effective", "permitted"};
	for (size_t i = 0; i < ELEMENTSOF(sets); i++)
		cJSON_AddItemToObject(c, sets[i], cJSON_Duplicate(b->conf->caps, true));
	return c;
}

/* Soft and hard both at `want`, or the host's hard limit when that is lower. */
static cJSON *rlimit(const char *type, int resource, rlim_t want)
{
	struct rlimit host;
	if (getrlimit(resource, &host) == 0 && host.rlim_max != RLIM_INFINITY && host.rlim_max < want)
		want = host.rlim_max;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "type", type);
	cJSON_AddNumberToObject(r, "hard", (double)want);
	cJSON_AddNumberToObject(r, "soft", (double)want);
	return r;
}

static cJSON *process(const dcfs_bundle *b)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddBoolToObject(p, "terminal", false);
	cJSON *user = cJSON_AddObjectToObject(p, "user");
	cJSON_AddNumberToObject(user, "uid", b->user->uid);
	cJSON_AddNumberToObject(user, "gid", b->user->gid);
	cJSON_AddItemToObject(p, "args", cJSON_Duplicate(b->args, true));
	cJSON_AddItemToObject(p, "env", cJSON_Duplicate(b->env, true));
	cJSON_AddStringToObject(p, "cwd", b->cwd);
	cJSON_AddItemToObject(p, "capabilities", capabilities(b));
	cJSON *rl = cJSON_AddArrayToObject(p, "rlimits");
	cJSON_AddItemToArray(rl, rlimit("RLIMIT_NOFILE", RLIMIT_NOFILE, 1048576));
	cJSON_AddItemToArray(rl, rlimit("RLIMIT_NPROC", RLIMIT_NPROC, 32768));
	cJSON_AddBoolToObject(p, "noNewPrivileges", b->conf->no_new_privileges);
	return p;
}

static void add_mount(cJSON *mounts, const char *dest, const char *type, const char *source,
		      const char *options)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "destination", dest);
	cJSON_AddStringToObject(m, "type", type);
	cJSON_AddStringToObject(m, "source", source);
	_cleanup_free_ char *copy = strdup(options);
	cJSON *opts = cJSON_AddArrayToObject(m, "options");
	for (char *p = copy, *tok; p && (tok = strsep(&p, ","));)
		cJSON_AddItemToArray(opts, cJSON_CreateString(tok));
	cJSON_AddItemToArray(mounts, m);
}

static cJSON *mounts(const dcfs_bundle *b)
{
	cJSON *m = cJSON_CreateArray();
	add_mount(m, "/proc", "proc", "proc", "nosuid,noexec,nodev");
	add_mount(m, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
	add_mount(m, "/dev/pts", "devpts", "devpts",
		  "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5");
	add_mount(m, "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k");
	add_mount(m, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
	add_mount(m, "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro");
	/* host networking: the host's name resolution */
	if (access("/etc/resolv.conf", R_OK) == 0)
		add_mount(m, "/etc/resolv.conf", "bind", "/etc/resolv.conf", "rbind,ro");
	const char *hosts = b->hosts ? b->hosts : "/etc/hosts";
	if (access(hosts, R_OK) == 0)
		add_mount(m, "/etc/hosts", "bind", hosts, "rbind,ro");
	const cJSON *it;
	cJSON_ArrayForEach(it, b->mounts) cJSON_AddItemToArray(m, cJSON_Duplicate(it, true));
	return m;
}

static cJSON *linux_section(const dcfs_bundle *b)
{
	cJSON *l = cJSON_CreateObject();
	cJSON *ns = cJSON_AddArrayToObject(l, "namespaces");
	static const char *const types[] = {"pid", "ipc", "uts", "mount"};
	for (size_t i = 0; i < ELEMENTSOF(types); i++) {
		cJSON *n = cJSON_CreateObject();
		cJSON_AddStringToObject(n, "type", types[i]);
		cJSON_AddItemToArray(ns, n);
	}
	cJSON_AddItemToObject(l, "maskedPaths", string_array(masked_paths, ELEMENTSOF(masked_paths)));
	cJSON_AddItemToObject(l, "readonlyPaths",
			      string_array(readonly_paths, ELEMENTSOF(readonly_paths)));
	if (b->conf->seccomp)
		cJSON_AddItemToObject(l, "seccomp", cJSON_Duplicate(b->conf->seccomp, true));
	return l;
}

static cJSON *spec(const dcfs_bundle *b)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "ociVersion", "1.0.2");
	cJSON_AddItemToObject(s, "process", process(b));
	cJSON *root = cJSON_AddObjectToObject(s, "root");
	cJSON_AddStringToObject(root, "path", b->rootfs);
	cJSON_AddBoolToObject(root, "readonly", false);
	if (b->hostname)
		cJSON_AddStringToObject(s, "hostname", b->hostname);
	cJSON_AddItemToObject(s, "mounts", mounts(b));
	cJSON_AddItemToObject(s, "linux", linux_section(b));
	return s;
}

int dcfs_bundle_write(const dcfs_bundle *b, const char *bundle_dir, dcfs_error *e)
{
	_cleanup_json_ cJSON *s = spec(b);
	_cleanup_free_ char *text = s ? cJSON_Print(s) : NULL;
	_cleanup_free_ char *path = NULL;
	if (!text || asprintf(&path, "%s/config.json", bundle_dir) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return dcfs_error_set(e, errno, "cannot write '%s': %m", path);
	int r = dcfs_write_all(fd, text, strlen(text));
	if (r < 0)
		return dcfs_error_set(e, r, "cannot write '%s': %s", path, strerror(-r));
	return 0;
}
