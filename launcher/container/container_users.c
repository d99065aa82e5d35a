/* Users inside the container: names and numbers resolved through the container root's own
 * /etc/passwd and /etc/group (never the host's), as runc and Docker do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "runtime.h"

/* The largest user or group id: 4294967295 is (uid_t)-1, which the kernel takes as "no
 * change" (setresuid) and the file systems as no owner. */
#define ID_MAX 4294967294u

/* A user or group number: 1 with *out set, 0 when `s` is not a number (a name), -ERANGE when
 * it is a number past ID_MAX (refused: it would not be the id asked for). */
static int parse_id(const char *s, uint32_t *out)
{
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return 0;
	uint64_t v = 0;
	for (; *s; s++)
		if ((v = v * 10 + (uint64_t)(*s - '0')) > ID_MAX)
			return -ERANGE;
	*out = (uint32_t)v;
	return 1;
}

static int out_of_range(const char *what, const char *id, dcfs_error *e)
{
	return dcfs_error_set(e, ERANGE, "%s id %s is out of range (0 to %u)", what, id, ID_MAX);
}

/* Find the line of FILE whose field 0 (name) equals `name` or field 2 (number) equals `id`;
 * fields split in place into f[0..6]. */
static bool find_entry(const char *path, const char *name, const uint32_t *id, char *line,
		       size_t len, char *f[7])
{
	_cleanup_fclose_ FILE *fp = fopen(path, "re");
	if (!fp)
		return false;
	while (fgets(line, (int)len, fp)) {
		size_t nl = strcspn(line, "\n");
		if (!line[nl]) { /* longer than the buffer: its start is the entry, the rest is skipped */
			int c;
			while ((c = getc(fp)) != EOF && c != '\n')
				;
		}
		line[nl] = 0;
		size_t n = 0;
		for (char *p = line, *tok; n < 7 && (tok = strsep(&p, ":"));)
			f[n++] = tok;
		if (n < 3)
			continue;
		uint32_t num;
		if ((name && !strcmp(f[0], name)) || (id && parse_id(f[2], &num) == 1 && num == *id)) {
			for (; n < 7; n++)
				f[n] = "";
			return true;
		}
	}
	return false;
}

static int resolve_group(const char *rootfs, const char *group, uint32_t *gid, dcfs_error *e)
{
	int numeric = parse_id(group, gid);
	if (numeric)
		return numeric < 0 ? out_of_range("group", group, e) : 0;
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/etc/group", rootfs) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	char line[4096], *f[7];
	if (!find_entry(path, group, NULL, line, sizeof(line), f) || parse_id(f[2], gid) != 1)
		return dcfs_error_set(e, ENOENT, "group '%s' is not in the container's /etc/group",
				      group);
	return 0;
}

static int resolve_passwd(const char *rootfs, const char *user, dcfs_user *out, dcfs_error *e)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/etc/passwd", rootfs) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	uint32_t uid;
	int numeric = parse_id(user, &uid);
	if (numeric < 0)
		return out_of_range("user", user, e);
	char line[4096], *f[7];
	bool found = find_entry(path, numeric ? NULL : user, numeric ? &uid : NULL, line,
				sizeof(line), f);
	if (!found && !numeric)
		return dcfs_error_set(e, ENOENT, "user '%s' is not in the container's /etc/passwd",
				      user);
	if (!found) {
		*out = (dcfs_user){.uid = uid, .gid = uid, .home = strdup("/")};
	} else {
		*out = (dcfs_user){.name = strdup(f[0]), .home = strdup(*f[5] ? f[5] : "/")};
		if (parse_id(f[2], &out->uid) != 1 || parse_id(f[3], &out->gid) != 1)
			return dcfs_user_free(out),
			       dcfs_error_set(e, EINVAL, "bad /etc/passwd entry for '%s'", user);
	}
	if (!out->home || (found && !out->name))
		return dcfs_user_free(out), dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

int dcfs_user_resolve(const char *rootfs, const char *spec, dcfs_user *out, dcfs_error *e)
{
	*out = (dcfs_user){0};
	_cleanup_free_ char *copy = strdup(spec && *spec ? spec : "root");
	if (!copy)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	char *group = strchr(copy, ':');
	if (group)
		*group++ = 0;
	int r = resolve_passwd(rootfs, copy, out, e);
	if (r >= 0 && group && (r = resolve_group(rootfs, group, &out->gid, e)) < 0)
		dcfs_user_free(out);
	return r;
}

void dcfs_user_free(dcfs_user *u)
{
	free(u->name);
	free(u->home);
	*u = (dcfs_user){0};
}
