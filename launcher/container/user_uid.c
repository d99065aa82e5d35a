/* updateRemoteUserUID: give the remote user the uid and gid of the workspace folder's owner, so
 * that what they write in the workspace is the developer's on the host, as the reference CLI
 * does with its image rebuild (here: the container's /etc/passwd and /etc/group are rewritten
 * through its root, so the change lands in the overlay's upper directory, and the user's home
 * is chowned). Like the reference, nothing changes for root, or when another user of the image
 * has the uid already; the user's group keeps its gid when another group has the new one.
 *
 * Files are opened inside the root (dcfs_open_in_root); the home is walked without following
 * symbolic links. */
#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "container_setup.h"
#include "fsutil.h"
#include "user_uid.h"

typedef struct change {
	const char *name;   /* the user's */
	uint32_t uid, gid;  /* old */
	uint32_t nuid, ngid; /* new */
	bool group_taken;
} change;

/* The file ROOT/path into a malloc'd string. */
static int slurp(int root, const char *path, char **out)
{
	_cleanup_close_ int fd = dcfs_open_in_root(root, path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	_cleanup_fclose_ FILE *f = open_memstream(&text, &len);
	char buf[4096];
	ssize_t n;
	while (f && (n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, f);
	if (f && n < 0)
		return -errno;
	if (!f || fflush(f) != 0)
		return -ENOMEM;
	fclose(TAKE_PTR(f));
	*out = TAKE_PTR(text);
	return 0;
}

static int spill(int root, const char *path, const char *text)
{
	_cleanup_close_ int fd = dcfs_open_in_root(root, path, O_WRONLY | O_TRUNC | O_NOFOLLOW, 0);
	return fd < 0 ? fd : dcfs_write_all(fd, text, strlen(text));
}

/* Field `i` (0-based) of a colon-separated line as a number; -1 when not one. */
static long field_id(const char *line, int i)
{
	for (; i > 0 && line; i--)
		line = strchr(line, ':') ? strchr(line, ':') + 1 : NULL;
	if (!line || *line < '0' || *line > '9')
		return -1;
	return strtol(line, NULL, 10);
}

static bool is_entry(const char *line, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(line, name, n) && line[n] == ':';
}

/* Does another line of `text` than `name`'s hold `id` in field 2? */
static bool id_taken(const char *text, const char *name, uint32_t id)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!is_entry(l, name) && field_id(l, 2) == (long)id)
			return true;
	return false;
}

/* `text` with field 2 (and field 3 when gid >= 0) of the line `pick` chooses replaced. */
static char *rewrite(const char *text, bool (*pick)(const char *, const change *),
		     const change *c, long id, long gid)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	for (const char *l = text; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		const char *f1 = memchr(l, ':', n);
		const char *f2 = f1 ? memchr(f1 + 1, ':', n - (size_t)(f1 + 1 - l)) : NULL;
		if (pick(l, c) && f2) {
			const char *rest = f2 + 1 + strcspn(f2 + 1, ":\n");
			if (gid >= 0 && *rest == ':')
				rest = rest + 1 + strcspn(rest + 1, ":\n");
			fprintf(f, "%.*s%ld", (int)(f2 + 1 - l), l, id);
			if (gid >= 0)
				fprintf(f, ":%ld", gid);
			fprintf(f, "%.*s\n", (int)(l + n - rest), rest);
		} else {
			fprintf(f, "%.*s\n", (int)n, l);
		}
		l = end ? end + 1 : NULL;
	}
	fclose(f);
	return out;
}

static bool pick_user(const char *line, const change *c)
{
	return is_entry(line, c->name);
}

static bool pick_group(const char *line, const change *c)
{
	return !c->group_taken && field_id(line, 2) == (long)c->gid;
}

/* The ids `st` should have after the change. */
static void new_ids(const struct stat *st, const change *c, uid_t *uid, gid_t *gid)
{
	*uid = st->st_uid == c->uid ? c->nuid : st->st_uid;
	*gid = st->st_gid == c->gid ? c->ngid : st->st_gid;
}

/* chown what below the folder `dir` belonged to the old ids; no link followed, no mount
 * crossed. */
static int chown_tree(int dir, dev_t dev, const change *c)
{
	int fd = dup(dir);
	_cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d)
		return fd >= 0 ? (close(fd), -errno) : -errno;
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		uid_t uid;
		gid_t gid;
		if (fstatat(dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
			continue;
		new_ids(&st, c, &uid, &gid);
		if ((uid != st.st_uid || gid != st.st_gid) &&
		    fchownat(dir, de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			continue;
		_cleanup_close_ int sub =
			openat(dir, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int r = sub < 0 ? -errno : chown_tree(sub, dev, c);
		if (r < 0)
			return r;
	}
	return 0;
}

/* chown the home and what in it belonged to the old ids. */
static int chown_home(int root, const char *home, const change *c)
{
	_cleanup_close_ int fd = dcfs_open_in_root(root, home, O_RDONLY | O_DIRECTORY, 0);
	if (fd == -ENOENT)
		return 0;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return fd < 0 ? fd : -errno;
	uid_t uid;
	gid_t gid;
	new_ids(&st, c, &uid, &gid);
	if (fchown(fd, uid, gid) < 0)
		return -errno;
	return chown_tree(fd, st.st_dev, c);
}

static int update_files(int root, change *c, const char *home)
{
	_cleanup_free_ char *passwd = NULL, *group = NULL, *np = NULL, *ng = NULL;
	int r = slurp(root, "/etc/passwd", &passwd);
	if (r < 0)
		return r;
	if (id_taken(passwd, c->name, c->nuid))
		return 1; /* as the reference: leave it */
	if ((r = slurp(root, "/etc/group", &group)) < 0 && r != -ENOENT)
		return r;
	c->group_taken = group && id_taken(group, "", c->ngid) && c->ngid != c->gid;
	np = rewrite(passwd, pick_user, c, c->nuid, c->ngid);
	ng = group ? rewrite(group, pick_group, c, c->ngid, -1) : NULL;
	if (!np || (group && !ng))
		return -ENOMEM;
	if ((r = spill(root, "/etc/passwd", np)) < 0 || (ng && (r = spill(root, "/etc/group", ng)) < 0))
		return r;
	return chown_home(root, home, c);
}

int dcfs_user_update_uid(const char *rootfs, dcfs_user *user, uint32_t uid, uint32_t gid,
			 dcfs_error *e)
{
	if (user->uid == 0 || !user->name || uid == 0 || (user->uid == uid && user->gid == gid))
		return 0;
	_cleanup_close_ int root = open(rootfs, O_DIRECTORY | O_PATH | O_CLOEXEC);
	if (root < 0)
		return dcfs_error_set(e, errno, "cannot open '%s': %m", rootfs);
	change c = {.name = user->name, .uid = user->uid, .gid = user->gid, .nuid = uid, .ngid = gid};
	int r = update_files(root, &c, user->home);
	if (r < 0)
		return dcfs_error_set(e, r, "updateRemoteUserUID: cannot update user '%s': %s",
				      user->name, strerror(-r));
	if (r == 0)
		user->uid = uid, user->gid = gid;
	return 0;
}
