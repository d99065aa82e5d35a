/* The workspace view's mode rules that the host cannot apply by itself: whether the kernel may
 * enforce the host's POSIX ACLs, the caller's umask on creation (left to the daemon once ACLs
 * are negotiated), and the set-user-ID/set-group-ID drop on a write or truncate: recognising the
 * kernel's own mode change, which the daemon makes for a writer that does not own the file
 * (without HANDLE_KILLPRIV_V2), and making the change itself on a write, truncate or
 * open(O_TRUNC) (with it, and for open(O_TRUNC) always: the kernel sends none). */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "cleanup.h"
#include "workspace_internal.h"

#define ACL_ACCESS "system.posix_acl_access"
#define ACL_DEFAULT "system.posix_acl_default"

bool ws_acl_supported(const char *path)
{
	/* ENODATA (no ACL on it) or a size: the file system keeps ACLs */
	return getxattr(path, ACL_ACCESS, NULL, 0) >= 0 || errno == ENODATA;
}

bool ws_is_acl_name(dcfs_workspace_fs *ws, const char *name)
{
	return atomic_load(&ws->posix_acl) && (!strcmp(name, ACL_ACCESS) || !strcmp(name, ACL_DEFAULT));
}

static bool has_default_acl(int dirfd)
{
	char proc[WS_PROC_PATH_MAX];
	ws_proc_path(dirfd, proc);
	return getxattr(proc, ACL_DEFAULT, NULL, 0) > 0;
}

mode_t ws_create_mode(fuse_req_t req, int dirfd, mode_t mode)
{
	if (!atomic_load(&ws_of(req)->posix_acl))
		return mode; /* the kernel applied the umask */
	mode_t umask = fuse_req_ctx(req)->umask;
	if (!(mode & umask & 0777) || has_default_acl(dirfd))
		return mode;
	return mode & ~(umask & 0777);
}

bool ws_mode_drops_privs_only(int fd, mode_t mode)
{
	struct stat st;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return false;
	const mode_t privs = S_ISUID | S_ISGID;
	mode_t cur = st.st_mode & 07777, want = mode & 07777;
	return want != cur && (want & ~privs) == (cur & ~privs) && !(want & ~cur);
}

/* Whether process `pid` has CAP_FSETID in the daemon's user namespace: the kernel's test before
 * it drops the bits. False when it cannot be told (the bits are then dropped). */
static bool caller_has_fsetid(pid_t pid)
{
	char path[64];
	struct stat ns, own;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (stat(path, &ns) < 0 || stat("/proc/self/ns/user", &own) < 0 || ns.st_ino != own.st_ino ||
	    ns.st_dev != own.st_dev)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char line[256];
	unsigned long long caps;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			return caps & (1ULL << CAP_FSETID);
	return false;
}

bool ws_drop_privs(fuse_req_t req, int fd, struct stat *st, bool check_caller)
{
	if (!S_ISREG(st->st_mode) || !ws_mode_is_privileged(st->st_mode) ||
	    (check_caller && caller_has_fsetid(fuse_req_ctx(req)->pid)))
		return false;
	mode_t drop = S_ISUID | ((st->st_mode & S_IXGRP) ? S_ISGID : 0);
	char proc[WS_PROC_PATH_MAX]; /* `fd` may be O_PATH */
	ws_proc_path(fd, proc);
	if (chmod(proc, st->st_mode & 07777 & ~drop) < 0)
		return false;
	fstat(fd, st);
	return true;
}
