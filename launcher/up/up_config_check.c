/* Whether a container is from its configuration as it is now: `up` keeps a hash of the
 * configuration it made the container from (its markers folder, `config.sha256`), and an `up`
 * that finds the container already made says when devcontainer.json changed since and how to
 * apply the change (`dcfs rebuild`), as an editor's "configuration changed, rebuild?" does. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "hash.h"
#include "up_internal.h"

/* The hash of the configuration as read and substituted, in hex. */
static int config_hash(up_ctx *u, char hex[DCFS_HASH_HEX])
{
	_cleanup_free_ char *text = cJSON_PrintUnformatted(u->d.config);
	if (!text)
		return -ENOMEM;
	dcfs_hash h;
	dcfs_hash_buf(text, strlen(text), &h);
	dcfs_hash_to_hex(&h, hex);
	return 0;
}

int up_config_check(up_ctx *u)
{
	char hex[DCFS_HASH_HEX];
	_cleanup_free_ char *path = NULL;
	if (config_hash(u, hex) < 0 || asprintf(&path, "%s/config.sha256", u->markers) < 0)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	if (u->created) {
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int r = fd < 0 ? -errno : dcfs_write_all(fd, hex, DCFS_HASH_HEX - 1);
		return r < 0 ? dcfs_error_set(u->e, -r, "cannot write '%s': %s", path, strerror(-r)) : 0;
	}
	char was[DCFS_HASH_HEX] = {0};
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dcfs_read_full(fd, was, DCFS_HASH_HEX - 1) != DCFS_HASH_HEX - 1)
		return 0; /* made by an older dcfs: nothing to compare with */
	if (strcmp(was, hex))
		dcfs_report_note(u->o->report,
				 "note: %s was made from an earlier %s; 'dcfs rebuild %s' applies "
				 "the change (the workspace and $HOME/config are kept)",
				 u->c.name, u->d.config_file, u->d.folder);
	return 0;
}
