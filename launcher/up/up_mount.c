/* Mounting a container's root and workspace views by running this binary (`dcfs mount`), so
 * that they detach as any mount does; both at once. The workspace view serves workspaceMount's
 * bind source (by default the folder); a volume workspace has no view: the bundle binds the
 * volume's folder itself. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "up_internal.h"

int up_self_exe(char *out, dcfs_error *e)
{
	ssize_t n = readlink("/proc/self/exe", out, PATH_MAX - 1);
	if (n < 0)
		return dcfs_error_set(e, errno, "cannot find the dcfs binary: %m");
	out[n] = 0;
	return 0;
}

/* A mount being made by this binary: `dcfs --store S mount ARGS...`, which exits once the
 * mount is ready (its daemon detached). */
typedef struct mounting {
	const char *what;
	const char *log; /* where its output goes */
	pid_t pid; /* 0: nothing started */
	off_t offset; /* of its output in the container's log */
} mounting;

static int mount_start(up_ctx *u, const char *what, char *const *args, mounting *m)
{
	dcfs_error *e = u->e;
	m->what = what;
	if (!m->log)
		m->log = u->log;
	char exe[PATH_MAX];
	int r = up_self_exe(exe, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *store = realpath(u->s->root, NULL);
	if (!store)
		return dcfs_error_set(e, errno, "store '%s': %m", u->s->root);
	char *argv[12] = {exe, "--store", store, "mount"};
	for (size_t i = 0; args[i] && i < 7; i++)
		argv[4 + i] = args[i];
	_cleanup_close_ int log = open(m->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	struct stat st;
	m->offset = log >= 0 && fstat(log, &st) == 0 ? st.st_size : 0;
	r = dcfs_spawn(argv, log, &m->pid);
	if (r < 0) {
		m->pid = 0;
		return dcfs_error_set(e, -r, "cannot run '%s': %s", exe, strerror(-r));
	}
	return 0;
}

/* Wait for it; `e` (may be NULL: quiet) says why it failed. */
static int mount_finish(up_ctx *u, mounting *m, dcfs_error *e)
{
	if (!m->pid)
		return 0;
	int status = dcfs_wait(m->pid);
	m->pid = 0;
	if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	_cleanup_free_ char *tail = dcfs_log_tail(m->log, m->offset);
	return e ? dcfs_error_set(e, EIO, "cannot mount the %s: %s", m->what, tail ? tail : "")
		 : -EIO;
}

/* The root and the workspace, both at once. */
int up_mount_all(up_ctx *u)
{
	_cleanup_free_ char *upper = dcfs_container_path(u->s, u->c.id, "upper");
	if (!upper)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	_cleanup_free_ char *ws_source = NULL; /* the folder, or a prebuild's view of it */
	int r = up_workspace_source(u, &ws_source);
	if (r < 0)
		return r;
	mounting root = {0}, ws = {0};
	char *root_args[] = {"--image", u->ref, "--upper", upper, u->rootfs, NULL};
	char *ws_args[] = {"--workspace", ws_source, u->workspace_mnt, NULL};
	if (!u->engine_kind && !dcfs_container_is_mounted(u->rootfs)) /* an engine has its own */
		r = mount_start(u, "container root", root_args, &root);
	if (r >= 0 && !up_workspace_is_volume(u) && !dcfs_container_is_mounted(u->workspace_mnt))
		r = mount_start(u, "workspace", ws_args, &ws);
	/* wait for whatever started; the first failure is the one reported */
	int r1 = mount_finish(u, &root, r < 0 ? NULL : u->e);
	int r2 = mount_finish(u, &ws, r < 0 || r1 < 0 ? NULL : u->e);
	return r < 0 ? r : r1 < 0 ? r1 : r2;
}

int up_mount_root_at(up_ctx *u, const char *ref, const char *upper, const char *work,
		     const char *rootfs, const char *log)
{
	mounting root = {.log = log};
	char *args[] = {"--image", (char *)ref, "--upper", (char *)upper, "--work", (char *)work,
			(char *)rootfs, NULL};
	int r = mount_start(u, "root", args, &root);
	return r ?: mount_finish(u, &root, u->e);
}

/* The configuration's workspaceMount, or the default one (a bind of the folder, mounted at
 * workspaceFolder as dcfs always did). */
int up_workspace_mount(up_ctx *u)
{
	const char *where = u->d.config_file;
	const cJSON *given = cJSON_GetObjectItemCaseSensitive(u->d.config, "workspaceMount");
	const cJSON *wm = cJSON_GetObjectItemCaseSensitive(u->d.workspace, "workspaceMount");
	dcfs_workspace_mount_free(&u->ws);
	u->ws_target = given != NULL;
	if (!given) {
		u->ws.type = strdup("bind");
		u->ws.source = strdup(u->d.folder);
		return u->ws.type && u->ws.source ? 0 : dcfs_error_set(u->e, ENOMEM, "out of memory");
	}
	if (!cJSON_IsString(wm))
		return dcfs_error_set(u->e, EINVAL, "%s: workspaceMount must be a string", where);
	int r = dcfs_workspace_mount_parse(wm->valuestring, where, &u->ws, u->e);
	return r ?: dcfs_workspace_mount_check(&u->ws, where, u->e);
}

bool up_workspace_is_volume(const up_ctx *u)
{
	return u->ws.type && !strcmp(u->ws.type, "volume");
}

const char *up_workspace_destination(const up_ctx *u)
{
	return u->ws_target ? u->ws.target : u->remote.workspace_folder;
}
