/* The people in a container: the container and remote users, updateRemoteUserUID, the
 * $HOME/config link to the workspace's .devcontainer/config (made after postCreateCommand), and the caller's ~/.gitconfig and
 * VS Code machine settings in the remote user's home. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "container_setup.h"
#include "fsutil.h"
#include "up_internal.h"
#include "user_uid.h"

/* HOME/config in the container's root, pointing at the workspace's .devcontainer/config, once
 * the create-time commands have run and only when they did not make HOME/config themselves: the
 * common recipe `ln -sf $PWD/.devcontainer/config $HOME/config` in postCreateCommand would
 * otherwise follow an existing link and leave a self-referencing one in the repository. The
 * folder is not created: a workspace without one keeps having none (the link dangles until the
 * user makes it). */
int up_link_config(up_ctx *u)
{
	dcfs_error *e = u->e;
	_cleanup_free_ char *target = NULL, *link = NULL, *home = NULL, *folder = NULL;
	/* the folder as the container sees it: through workspaceMount's bind (none when the bind
	 * does not show it), or workspaceFolder for a volume */
	dcfs_workspace_mount shown = u->ws;
	if (!u->ws_target)
		shown.target = u->remote.workspace_folder;
	if (up_workspace_is_volume(u))
		folder = strdup(u->remote.workspace_folder);
	else if (!(folder = dcfs_workspace_mount_path_of(&shown, u->d.folder)))
		return 0;
	if (folder && u->engine_kind && !u->engine_root_direct) {
		if (asprintf(&target, "%s/.devcontainer/config", folder) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
		return up_engine_link_config(u, target);
	}
	if (!folder || asprintf(&target, "%s/.devcontainer/config", folder) < 0 ||
	    asprintf(&home, "%s%s", u->rootfs, u->remote.user.home) < 0 ||
	    asprintf(&link, "%s/config", home) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	struct stat st;
	if (lstat(link, &st) == 0)
		return 0;
	int r = dcfs_mkdir_p(home, 0755);
	if (r >= 0 && (symlink(target, link) < 0 ||
		       lchown(link, u->remote.user.uid, u->remote.user.gid) < 0))
		r = -errno;
	if (r < 0)
		return dcfs_error_set(e, r, "cannot link '%s': %s", link, strerror(-r));
	return 0;
}

/* The caller's ~/.gitconfig and the VS Code machine settings in the remote user's home. */
int up_home_files(up_ctx *u)
{
	dcfs_error *e = u->e;
	const cJSON *custom = cJSON_GetObjectItemCaseSensitive(u->d.config, "customizations");
	const cJSON *vscode = cJSON_GetObjectItemCaseSensitive(custom, "vscode");
	const cJSON *settings = cJSON_GetObjectItemCaseSensitive(vscode, "settings");
	int r = dcfs_home_gitconfig(u->rootfs, &u->remote.user, e);
	return r ?: dcfs_home_settings(u->rootfs, &u->remote.user, settings, e);
}

int up_users(up_ctx *u)
{
	dcfs_error *e = u->e;
	const cJSON *image = cJSON_GetObjectItemCaseSensitive(u->image_config, "config");
	const char *image_user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(image, "User"));
	const char *cu = cfg_string(u, "containerUser") ?: image_user;
	const char *ru = cfg_string(u, "remoteUser") ?: cu;
	int r = dcfs_user_resolve(u->rootfs, cu, &u->container_user, e);
	if (r < 0 || (r = dcfs_user_resolve(u->rootfs, ru, &u->remote.user, e)) < 0)
		return dcfs_error_wrap(e, "%s", u->d.config_file);
	const char *wf = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(u->d.workspace, "workspaceFolder"));
	u->remote.workspace_folder = strdup(wf ? wf : "/workspace");
	u->remote.env = cJSON_CreateArray();
	const cJSON *it;
	cJSON_ArrayForEach(it, cfg(u, "remoteEnv")) if (cJSON_IsString(it))
		dcfs_env_set(u->remote.env, it->string, it->valuestring);
	if (!u->remote.workspace_folder || !u->remote.env)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	return 0;
}

/* updateRemoteUserUID (default true): the remote user takes the uid and gid of the workspace
 * folder's owner, who stands for the developer (dcfs runs as root; a folder of root's changes
 * nothing). The container user follows when it is the same user. */
int up_update_uid(up_ctx *u)
{
	struct stat st;
	if (cJSON_IsFalse(cfg(u, "updateRemoteUserUID")) || stat(u->d.folder, &st) < 0 ||
	    st.st_uid == 0)
		return 0;
	dcfs_user *ru = &u->remote.user, *cu = &u->container_user;
	int r = dcfs_user_update_uid(u->rootfs, ru, st.st_uid, st.st_gid, u->e);
	if (r < 0)
		return r;
	if (ru->name && cu->name && !strcmp(ru->name, cu->name))
		cu->uid = ru->uid, cu->gid = ru->gid;
	return 0;
}
