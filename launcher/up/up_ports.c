/* appPort's host side in `up` (see port_forward.h): the mappings are checked with the rest of
 * the configuration; once the container runs, its relay is started unless it runs already. */
#include <stdlib.h>

#include "cleanup.h"
#include "port_forward.h"
#include "up_internal.h"

int up_check_app_port(up_ctx *u)
{
	_cleanup_free_ dcfs_port_map *maps = NULL;
	size_t n;
	return dcfs_app_port_forwards(cfg(u, "appPort"), u->d.config_file, &maps, &n, u->e);
}

int up_forward_ports(up_ctx *u)
{
	dcfs_error *e = u->e;
	_cleanup_free_ dcfs_port_map *maps = NULL;
	size_t n;
	int r = dcfs_app_port_forwards(cfg(u, "appPort"), u->d.config_file, &maps, &n, e);
	if (r < 0 || n == 0)
		return r;
	_cleanup_free_ char *pid_file = dcfs_container_path(u->s, u->c.id, "forward.pid");
	if (!pid_file)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (dcfs_port_forward_running(pid_file))
		return 0;
	pid_t pid;
	if ((r = dcfs_runc_pid(&u->runc, u->c.id, &pid)) < 0)
		return dcfs_error_set(e, -r, "appPort: cannot find the process of container %s",
				      u->c.name);
	return dcfs_port_forward_start(maps, n, pid, pid_file, u->d.config_file, e);
}
