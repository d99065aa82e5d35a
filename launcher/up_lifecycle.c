/* The lifecycle commands in a container: onCreate, updateContent and postCreate once (markers),
 * postStart at each start, postAttach at each up; with waitFor, those after it in a detached
 * child writing to the container's log; a prebuild's container runs only the first two. Every
 * command's label and output also go to the container's log (`dcfs logs`). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "up_internal.h"

/* Run a once-per-container command unless its marker says it ran: 1 when it ran now. */
static int run_once(up *u, const dcfs_lifecycle *l, const char *name, const char *merged_key)
{
	_cleanup_free_ char *marker = NULL;
	if (asprintf(&marker, "%s/%s", u->markers, name) < 0)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	if (access(marker, F_OK) == 0)
		return 0;
	int r = dcfs_lifecycle_run_all(l, name, cfg(u, merged_key), u->e);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	return fd < 0 ? dcfs_error_set(u->e, errno, "cannot create '%s': %m", marker) : 1;
}

/* The commands in the container, in order; postStart runs only when `up` started it. */
static const struct step {
	const char *name, *merged_key;
	bool once, at_start, then_link_config;
} steps[] = {
	{"onCreateCommand", "onCreateCommands", true, false, false},
	{"updateContentCommand", "updateContentCommands", true, false, false},
	{"postCreateCommand", "postCreateCommands", true, false, true},
	{"postStartCommand", "postStartCommands", false, true, false},
	{"postAttachCommand", "postAttachCommands", false, false, false},
};

static int run_steps(up *u, const dcfs_lifecycle *l, bool started, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		const struct step *s = &steps[i];
		int r = 0;
		if (s->once)
			r = run_once(u, l, s->name, s->merged_key);
		if (r > 0 && s->then_link_config)
			r = up_link_config(u);
		else if (!s->once && (started || !s->at_start))
			r = dcfs_lifecycle_run_all(l, s->name, cfg(u, s->merged_key), u->e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The steps from `from` on in a detached child writing to the container's log (it keeps the
 * folder's lock until it is done, so the next `up`, `down` or `rm` waits for it). The child
 * leaves the store's catalog alone and ends with _exit. */
static int run_in_background(up *u, const dcfs_lifecycle *l, bool started, size_t from)
{
	int log = open(u->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log < 0)
		return dcfs_error_set(u->e, errno, "cannot open '%s': %m", u->log);
	pid_t pid = fork();
	if (pid != 0) {
		close(log);
		return pid < 0 ? dcfs_error_set(u->e, errno, "cannot fork: %m") : 0;
	}
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	setsid();
	if (null < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		_exit(1);
	dcfs_lifecycle quiet = *l;
	quiet.log = NULL; /* stderr is the log already */
	int r = run_steps(u, &quiet, started, from, ELEMENTSOF(steps));
	if (r < 0)
		dprintf(2, "dcfs: up: %s\n", u->e->msg ? u->e->msg : strerror(-r));
	_exit(r < 0 ? 1 : 0);
}

/* All steps; with waitFor set, those after it run in the background. The reference CLI's `up`
 * runs them all unless told otherwise (waitFor's default, updateContentCommand, is for
 * editors that attach at once), so an unset waitFor runs them all here too. */
int up_lifecycle(up *u, bool started)
{
	_cleanup_fclose_ FILE *log = fopen(u->log, "ae"); /* for `dcfs logs`; none is no error */
	dcfs_lifecycle l = {
		.runc = &u->runc,
		.id = u->c.id,
		.user = &u->remote.user,
		.cwd = u->remote.workspace_folder,
		.env = u->remote.env,
		.log = log,
	};
	if (u->o->prebuild) /* onCreate and updateContent: what a prebuild snapshot holds */
		return run_steps(u, &l, started, 0, 2);
	const char *wait_for = cfg_string(u, "waitFor");
	size_t n = ELEMENTSOF(steps);
	for (size_t i = 0; wait_for && i < n; i++)
		if (!strcmp(wait_for, steps[i].name)) {
			int r = run_steps(u, &l, started, 0, i + 1);
			return r < 0 || i + 1 == n ? r : run_in_background(u, &l, started, i + 1);
		}
	if (wait_for)
		return dcfs_error_set(u->e, EINVAL, "%s: waitFor: unknown command '%s'",
				      u->d.config_file, wait_for);
	return run_steps(u, &l, started, 0, n);
}
