/* The lifecycle commands in a container: onCreate, updateContent and postCreate once (markers),
 * postStart at each start, postAttach at each up; with waitFor, those after it in a detached
 * child writing to the container's log; a prebuild's container runs only the first two. Every
 * command's label and output also go to the container's log (`dcfs logs`). When `up` started
 * the container, userEnvProbe probes the remote user's environment first; the commands (and
 * `dcfs exec`, through remote.json) start from it, with remoteEnv over it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "container_command.h"
#include "jsonc.h"
#include "up_internal.h"
#include "user_env_probe.h"

/* Run a once-per-container command unless its marker says it ran: 1 when it ran now. */
static int run_once(up_ctx *u, const dcfs_lifecycle *l, const char *name, const char *merged_key)
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

static int run_steps(up_ctx *u, const dcfs_lifecycle *l, bool started, size_t from, size_t to)
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
static int run_in_background(up_ctx *u, const dcfs_lifecycle *l, bool started, size_t from)
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
	quiet.log = NULL; /* stdout and stderr are the log already */
	int r = run_steps(u, &quiet, started, from, ELEMENTSOF(steps));
	if (r < 0) /* into the log */
		dprintf(log, "dcfs: up: %s\n", u->e->msg ? u->e->msg : strerror(-r));
	_exit(r < 0 ? 1 : 0);
}

/* "userEnvProbe ...": a warning for the user, and "dcfs: warning: userEnvProbe ..." in the log. */
static void warn(const up_ctx *u, FILE *log, const char *mode, const char *why)
{
	_cleanup_free_ char *line = NULL;
	if (asprintf(&line, "userEnvProbe (%s) in container %s: %s; going on without the "
		     "environment it probes", mode, u->c.name, why) < 0)
		return;
	dcfs_report_warning(u->o->report, "%s", line);
	if (log) {
		fprintf(log, "dcfs: warning: %s\n", line);
		fflush(log);
	}
}

/* userEnvProbe, when `up` started the container: the remote user's login shell prints its
 * environment, which with remoteEnv over it becomes the remote env that remote.json keeps for
 * later `up`s and `exec` (so the shell starts once per start of the container). A probe that
 * hangs or prints nothing is a warning, and `up` goes on without it. */
static int probe_user_env(up_ctx *u, FILE *log)
{
	const cJSON *value = cfg(u, "userEnvProbe");
	const char *mode = value ? cJSON_GetStringValue(value) : DCFS_USER_ENV_PROBE_DEFAULT;
	if (!dcfs_user_env_probe_known(mode)) {
		_cleanup_free_ char *text = cJSON_PrintUnformatted(value);
		warn(u, log, text ? text : "?",
		     "not one of none, loginShell, interactiveShell, loginInteractiveShell");
		return 0;
	}
	const char *flags = dcfs_user_env_probe_flags(mode);
	if (!flags)
		return 0; /* "none" */
	_cleanup_free_ char *shell = dcfs_login_shell(u->rootfs, u->remote.user.uid);
	_cleanup_free_ char *spec = dcfs_container_path(u->s, u->c.id, "bundle/config.json");
	_cleanup_free_ char *pid_file = dcfs_container_path(u->s, u->c.id, "user-env-probe.pid");
	if (!shell || !spec || !pid_file)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	_cleanup_free_ char *path = dcfs_bundle_path_env(spec);
	dcfs_user_env_probe p = {
		.runc = &u->runc,
		.id = u->c.id,
		.user = &u->remote.user,
		.cwd = u->remote.workspace_folder,
		.shell = shell,
		.flags = flags,
		.container_path = path,
		.pid_file = pid_file,
		.err_fd = log ? fileno(log) : -1,
		.timeout_ms = DCFS_USER_ENV_PROBE_TIMEOUT_MS,
	};
	_cleanup_json_ cJSON *probed = NULL;
	_cleanup_error_ dcfs_error why = {0};
	if (log) { /* what the shell says on stderr follows in the log */
		fprintf(log, "userEnvProbe (%s): %s %s\n", mode, shell, flags);
		fflush(log);
	}
	int r = dcfs_user_env_probe_run(&p, &probed, &why);
	if (r == -ENOMEM)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	if (r < 0) {
		warn(u, log, mode, why.msg);
		return 0;
	}
	cJSON *env = dcfs_user_env_apply(probed, u->remote.env);
	if (!env)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	cJSON_Delete(u->remote.env);
	u->remote.env = env;
	return dcfs_remote_save(u->s, u->c.id, &u->remote, u->e);
}

/* All steps; with waitFor set, those after it run in the background. The reference CLI's `up`
 * runs them all unless told otherwise (waitFor's default, updateContentCommand, is for
 * editors that attach at once), so an unset waitFor runs them all here too. */
int up_lifecycle(up_ctx *u, bool started)
{
	_cleanup_fclose_ FILE *log = fopen(u->log, "ae"); /* for `dcfs logs`; none is no error */
	int r = started ? probe_user_env(u, log) : 0;
	if (r < 0)
		return r;
	dcfs_lifecycle l = {
		.runc = &u->runc,
		.id = u->c.id,
		.user = &u->remote.user,
		.cwd = u->remote.workspace_folder,
		.env = u->remote.env,
		.log = log,
		.report = u->o->report,
	};
	if (u->o->prebuild) /* onCreate and updateContent: what a prebuild snapshot holds */
		return run_steps(u, &l, started, 0, 2);
	const char *wait_for = cfg_string(u, "waitFor");
	size_t n = ELEMENTSOF(steps);
	for (size_t i = 0; wait_for && i < n; i++)
		if (!strcmp(wait_for, steps[i].name)) {
			r = run_steps(u, &l, started, 0, i + 1);
			return r < 0 || i + 1 == n ? r : run_in_background(u, &l, started, i + 1);
		}
	if (wait_for)
		return dcfs_error_set(u->e, EINVAL, "%s: waitFor: unknown command '%s'",
				      u->d.config_file, wait_for);
	return run_steps(u, &l, started, 0, n);
}
