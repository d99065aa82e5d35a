/* What `up` puts into a container besides its bundle: its name from runArgs, an /etc/hosts
 * with runArgs' extra hosts, the host user's ~/.gitconfig and the VS Code machine settings in
 * the remote user's home, and the report of which forwarded ports listen.
 *
 * Paths in the container's root are resolved inside it (openat2 RESOLVE_IN_ROOT): a symbolic
 * link in an image never leads a write out to the host. */
#pragma once

#include <cjson/cJSON.h>
#include <sys/types.h>

#include "container.h"
#include "error.h"
#include "runtime.h"
#include "store.h"

/* openat2(2) of `path` below the folder `root` resolved as if `root` were "/" (no magic
 * links); O_CLOEXEC added. A descriptor or -errno. */
int dcfs_open_in_root(int root, const char *path, int flags, mode_t mode);

/* Rename the container's record (runArgs --name); -EEXIST when another container has it. */
int dcfs_container_rename(dcfs_store *s, dcfs_container *c, const char *name, dcfs_error *e);

/* Write `path`: the host's /etc/hosts followed by `lines` (array of strings). */
int dcfs_hosts_write(const char *path, const cJSON *lines, dcfs_error *e);

/* Write `data` to HOME/REL in the root `rootfs` (REL may hold folders, made as needed), owned
 * by `user`, mode 0644 (0600 when `private_file`). `replace` false keeps an existing file. */
int dcfs_home_write(const char *rootfs, const dcfs_user *user, const char *rel, const char *data,
		    size_t len, bool replace, dcfs_error *e);

/* $HOME/.gitconfig of the caller copied to the remote user's home unless one is there already;
 * nothing when the caller has none. Nothing else from $HOME (no SSH keys). */
int dcfs_home_gitconfig(const char *rootfs, const dcfs_user *user, dcfs_error *e);

/* `settings` (an object; NULL: nothing) as ~/.vscode-server/data/Machine/settings.json. */
int dcfs_home_settings(const char *rootfs, const dcfs_user *user, const cJSON *settings,
		       dcfs_error *e);

/* "ports: 3000 (listening), 8921 forwarded to 5017 (not listening)" for forwardPorts (numbers,
 * "N" or "host:N" strings) and appPort (numbers, "N", "HOST:N" or "IP:HOST:N": the host port
 * forwarded to N) from the host's /proc/net/tcp and tcp6, which say whether N listens;
 * malloc'd, NULL when the configuration names no port. */
char *dcfs_ports_report(const cJSON *forward_ports, const cJSON *app_port);
