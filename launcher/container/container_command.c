/* The remote user's login shell, the container's PATH and the command lookup of `dcfs exec`
 * (see container_command.h). */
#include "container_command.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "container_setup.h"
#include "fsutil.h"
#include "jsonc.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* What `fd` holds, at most 1 MiB, NUL-terminated; NULL on failure. The descriptor is closed. */
static char *read_small(int fd)
{
	_cleanup_close_ int owned = fd;
	if (fd < 0)
		return NULL;
	char *buf = malloc((1 << 20) + 1);
	ssize_t n = buf ? dcfs_read_full(fd, buf, 1 << 20) : -1;
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* An executable regular file at PATH inside the root: 1, 0 when absent or not executable,
 * -errno when the lookup failed otherwise. */
static int executable_in_root(int root, const char *path)
{
	_cleanup_close_ int fd = dcfs_open_in_root(root, path, O_PATH, 0);
	struct stat st;
	if (fd < 0)
		return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	return S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

char *dcfs_login_shell(const char *rootfs, uint32_t uid)
{
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *passwd = root < 0 ? NULL : read_small(dcfs_open_in_root(root, "etc/passwd", O_RDONLY, 0));
	for (char *line = passwd, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* name:password:uid:gid:gecos:home:shell */
		char *f[7] = {0};
		size_t k = 0;
		for (char *p = line; k < 7 && p; k++) {
			f[k] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = '\0';
		}
		char *end;
		if (k < 7 || strtoul(f[2], &end, 10) != uid || *end || f[6][0] != '/')
			continue;
		if (executable_in_root(root, f[6]) > 0)
			return strdup(f[6]);
		break;
	}
	return strdup("/bin/sh");
}

/* The value of the last "PATH=" string in the array `env`, or NULL. */
static const char *path_of(const cJSON *env)
{
	const char *path = NULL;
	const cJSON *it;
	cJSON_ArrayForEach(it, env) if (cJSON_IsString(it) && !strncmp(it->valuestring, "PATH=", 5))
		path = it->valuestring + 5;
	return path;
}

char *dcfs_bundle_path_env(const char *bundle_config)
{
	_cleanup_free_ char *text = read_small(open(bundle_config, O_RDONLY | O_CLOEXEC));
	_cleanup_json_ cJSON *spec = text ? cJSON_Parse(text) : NULL;
	const cJSON *process = cJSON_GetObjectItemCaseSensitive(spec, "process");
	const char *path = path_of(cJSON_GetObjectItemCaseSensitive(process, "env"));
	return path ? strdup(path) : NULL;
}

/* Whether folder DIR is, or is below, the destination of one of the bundle's mounts: what is
 * there is not in the root as the host sees it. */
static bool under_a_mount(const cJSON *mounts, const char *dir)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, mounts)
	{
		const char *dest = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "destination"));
		size_t len = dest ? strlen(dest) : 0;
		while (len > 1 && dest[len - 1] == '/')
			len--;
		if (len > 1 && !strncmp(dir, dest, len) && (dir[len] == '\0' || dir[len] == '/'))
			return true;
	}
	return false;
}

/* NAME in one folder of PATH: 1 found, 0 not there, -errno cannot tell. */
static int in_folder(int root, const cJSON *mounts, const char *dir, const char *name)
{
	if (dir[0] != '/' || under_a_mount(mounts, dir))
		return -EAGAIN; /* relative to a working folder, or inside a mount of the container */
	_cleanup_free_ char *file = NULL;
	if (asprintf(&file, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	return executable_in_root(root, file);
}

int dcfs_exec_lookup(const char *rootfs, const char *bundle_config, const cJSON *remote_env,
		     const char *name)
{
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *text = read_small(open(bundle_config, O_RDONLY | O_CLOEXEC));
	_cleanup_json_ cJSON *spec = text ? cJSON_Parse(text) : NULL;
	if (root < 0 || !spec)
		return -EIO;
	const cJSON *process = cJSON_GetObjectItemCaseSensitive(spec, "process");
	const char *path = path_of(remote_env) ?: path_of(cJSON_GetObjectItemCaseSensitive(process, "env"));
	const cJSON *mounts = cJSON_GetObjectItemCaseSensitive(spec, "mounts");
	int unsure = 0;
	for (const char *p = path ? path : DEFAULT_PATH; p;) {
		const char *colon = strchr(p, ':');
		_cleanup_free_ char *dir = strndup(p, colon ? (size_t)(colon - p) : strlen(p));
		p = colon ? colon + 1 : NULL;
		int r = dir ? in_folder(root, mounts, dir, name) : -ENOMEM;
		if (r > 0)
			return 1;
		if (r < 0)
			unsure = r;
	}
	return unsure;
}
