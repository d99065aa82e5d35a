/* The container's name, /etc/hosts, the remote user's ~/.gitconfig and VS Code machine
 * settings, and the forwarded ports' report (see container_setup.h).
 *
 * Files in the remote user's home are written through the container's root (the overlay, so
 * they land in the upper directory) with every path resolved by openat2(RESOLVE_IN_ROOT): the
 * image decides what HOME holds, and a link there must resolve as it would in the container. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "container_setup.h"
#include "fsutil.h"
#include "jsonc.h"
#include "port_forward.h"

int dcfs_container_rename(dcfs_store *s, dcfs_container *c, const char *name, dcfs_error *e)
{
	if (!strcmp(c->name, name))
		return 0;
	int r = dcfs_container_table_rename(s, c->id, name, e);
	if (r == -EEXIST)
		return dcfs_error_set(e, EEXIST, "runArgs: another container is named '%s'", name);
	if (r < 0)
		return r;
	char *copy = strdup(name);
	if (!copy)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	free(c->name);
	c->name = copy;
	return 0;
}

int dcfs_hosts_write(const char *path, const cJSON *lines, dcfs_error *e)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	_cleanup_fclose_ FILE *f = open_memstream(&text, &len);
	if (!f)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_fclose_ FILE *host = fopen("/etc/hosts", "re");
	char buf[4096];
	for (size_t n; host && (n = fread(buf, 1, sizeof(buf), host)) > 0;)
		fwrite(buf, 1, n, f);
	if (len > 0 && text[len - 1] != '\n')
		fputc('\n', f);
	const cJSON *it;
	cJSON_ArrayForEach(it, lines) fprintf(f, "%s\n", cJSON_GetStringValue(it) ?: "");
	if (fflush(f) != 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r = fd < 0 ? -errno : dcfs_write_all(fd, text, len);
	return r < 0 ? dcfs_error_set(e, r, "cannot write '%s': %s", path, strerror(-r)) : 0;
}

int dcfs_open_in_root(int root, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, root, path, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

/* The folder `dir` (relative to the root, no leading '/'), made as needed; new folders belong
 * to `user`. */
static int folder_in_root(int root, const char *dir, const dcfs_user *user)
{
	_cleanup_free_ char *copy = strdup(dir);
	if (!copy)
		return -ENOMEM;
	int fd = dcfs_open_in_root(root, ".", O_DIRECTORY | O_PATH, 0);
	for (char *p = copy, *tok; fd >= 0 && (tok = strsep(&p, "/"));) {
		if (!*tok)
			continue;
		bool made = mkdirat(fd, tok, 0755) == 0;
		if (!made && errno != EEXIST)
			return close(fd), -errno;
		int next = dcfs_open_in_root(fd, tok, O_DIRECTORY | O_PATH, 0);
		close(fd);
		fd = next;
		if (made && fd >= 0 && fchownat(fd, "", user->uid, user->gid, AT_EMPTY_PATH) < 0)
			return close(fd), -errno;
	}
	return fd;
}

int dcfs_home_write(const char *rootfs, const dcfs_user *user, const char *rel, const char *data,
		    size_t len, bool replace, dcfs_error *e)
{
	_cleanup_free_ char *path = NULL, *dir = NULL;
	if (asprintf(&path, "%s/%s", user->home, rel) < 0 || !(dir = strdup(path)))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	*strrchr(dir, '/') = 0;
	const char *base = strrchr(path, '/') + 1;
	_cleanup_close_ int root = open(rootfs, O_DIRECTORY | O_PATH | O_CLOEXEC);
	if (root < 0)
		return dcfs_error_set(e, errno, "cannot open '%s': %m", rootfs);
	_cleanup_close_ int d = folder_in_root(root, dir + strspn(dir, "/"), user);
	if (d < 0)
		return dcfs_error_set(e, d, "cannot create '%s' in the container: %s", dir, strerror(-d));
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | (replace ? O_TRUNC : O_EXCL);
	_cleanup_close_ int fd = dcfs_open_in_root(d, base, flags, 0644);
	if (fd == -EEXIST)
		return 0;
	int r = fd < 0 ? fd : dcfs_write_all(fd, data, len);
	if (r >= 0 && fchown(fd, user->uid, user->gid) < 0)
		r = -errno;
	return r < 0 ? dcfs_error_set(e, r, "cannot write '%s' in the container: %s", path,
				      strerror(-r))
		     : 0;
}

int dcfs_home_gitconfig(const char *rootfs, const dcfs_user *user, dcfs_error *e)
{
	const char *home = getenv("HOME");
	_cleanup_free_ char *src = NULL, *data = NULL;
	if (!home || !*home)
		return 0;
	if (asprintf(&src, "%s/.gitconfig", home) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_fclose_ FILE *f = fopen(src, "re");
	if (!f)
		return errno == ENOENT ? 0 : dcfs_error_set(e, errno, "cannot read '%s': %m", src);
	size_t len = 0;
	_cleanup_fclose_ FILE *out = open_memstream(&data, &len);
	char buf[4096];
	for (size_t n; out && (n = fread(buf, 1, sizeof(buf), f)) > 0;)
		fwrite(buf, 1, n, out);
	if (!out || ferror(f) || fflush(out) != 0)
		return dcfs_error_set(e, EIO, "cannot read '%s'", src);
	return dcfs_home_write(rootfs, user, ".gitconfig", data, len, false, e);
}

int dcfs_home_settings(const char *rootfs, const dcfs_user *user, const cJSON *settings,
		       dcfs_error *e)
{
	if (!cJSON_IsObject(settings))
		return 0;
	_cleanup_free_ char *text = cJSON_Print(settings);
	if (!text)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return dcfs_home_write(rootfs, user, ".vscode-server/data/Machine/settings.json", text,
			       strlen(text), true, e);
}

/* Does /proc/net/FILE hold a listening socket on `port`? */
static bool listens_in(const char *file, long port)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	char line[512];
	if (!f || !fgets(line, sizeof(line), f)) /* the header */
		return false;
	while (fgets(line, sizeof(line), f)) {
		char local[128];
		unsigned state;
		if (sscanf(line, " %*s %127s %*s %x", local, &state) != 2 || state != 0x0A)
			continue;
		const char *colon = strrchr(local, ':');
		if (colon && strtol(colon + 1, NULL, 16) == port)
			return true;
	}
	return false;
}

/* The port of a forwardPorts/appPort entry: N, "N", "host:N"; -1 when none. */
static long port_of(const cJSON *v)
{
	if (cJSON_IsNumber(v))
		return v->valuedouble >= 1 && v->valuedouble <= 65535 ? (long)v->valuedouble : -1;
	const char *s = cJSON_GetStringValue(v);
	if (!s)
		return -1;
	const char *p = strrchr(s, ':') ? strrchr(s, ':') + 1 : s;
	char *end;
	long n = strtol(p, &end, 10);
	return *p && !*end && n >= 1 && n <= 65535 ? n : -1;
}

/* forwardPorts entries (`app` false) or appPort mappings: "PORT (listening)", or for an
 * appPort mapping "HOST forwarded to PORT (...)"; listening says whether PORT listens. */
static void report_ports(FILE *f, const cJSON *list, bool app, bool *first)
{
	const cJSON *one = list && !cJSON_IsArray(list) ? list : NULL;
	const cJSON *it = one ? one : (list ? list->child : NULL);
	for (; it; it = one ? NULL : it->next) {
		dcfs_port_map m = {.host = -1};
		long port = app ? (dcfs_port_map_parse(it, "", &m, NULL) < 0 ? -1 : m.container)
				: port_of(it);
		if (port < 0)
			continue;
		bool on = listens_in("/proc/net/tcp", port) || listens_in("/proc/net/tcp6", port);
		fprintf(f, "%s", *first ? "ports: " : ", ");
		if (app && m.host != m.container)
			fprintf(f, "%s%s%d forwarded to ", m.addr, m.addr[0] ? ":" : "", m.host);
		fprintf(f, "%ld (%s)", port, on ? "listening" : "not listening");
		*first = false;
	}
}

char *dcfs_ports_report(const cJSON *forward_ports, const cJSON *app_port)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	bool first = true;
	report_ports(f, forward_ports, false, &first);
	report_ports(f, app_port, true, &first);
	fclose(f);
	if (first) {
		free(text);
		return NULL;
	}
	return text;
}
