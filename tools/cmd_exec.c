/* dcfs exec: run a command in a folder's running dev container, as its remote user in its
 * workspace folder, with the environment `up` saved (what userEnvProbe found, with remoteEnv
 * over it); without a command, the user's login shell (from the container's /etc/passwd) with
 * TERM passed on. A command name that is on no folder of the container's PATH (that
 * environment's) is "not found" (exit 127) before runc is asked. `runc exec` runs as our
 * child and its exit code (the command's) is ours; runc's own error is one dcfs line (a
 * command not found: 127, one that cannot be executed: 126). A terminal is allocated when
 * stdin is one. A container on an engine (podman, docker) runs the command through the
 * engine's API exec instead, with the same user, folder and environment.
 *
 * --config FILE picks one of the folder's configurations (needed when it has several).
 *
 *   dcfs exec [--config FILE] [FOLDER] [-- CMD [ARG...]]
 */
#include <getopt.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"
#include "container_command.h"
#include "container_wait.h"
#include "jsonc.h"
#include "runc_exec.h"

/* FOLDER and the command: `exec -- CMD`, `exec FOLDER -- CMD`, `exec FOLDER`, `exec`. */
static int split_args(int argc, char **argv, const char **folder, char ***cmd)
{
	bool dashdash = optind > 1 && !strcmp(argv[optind - 1], "--");
	*folder = NULL;
	if (!dashdash && optind < argc) {
		*folder = argv[optind++];
		if (optind < argc && !strcmp(argv[optind], "--"))
			optind++;
	}
	*cmd = optind < argc ? argv + optind : NULL;
	return 0;
}

/* Whether the array of "NAME=value" strings sets NAME. */
static bool has_env(const cJSON *env, const char *name)
{
	size_t len = strlen(name);
	const cJSON *it;
	cJSON_ArrayForEach(it, env) if (cJSON_IsString(it) && !strncmp(it->valuestring, name, len) &&
					it->valuestring[len] == '=')
		return true;
	return false;
}

/* TERM=<the terminal's> in env unless it has one, as `docker exec -t` does. */
static int add_term(cJSON *env)
{
	_cleanup_free_ char *term = NULL;
	if (has_env(env, "TERM"))
		return 0;
	if (asprintf(&term, "TERM=%s", getenv("TERM") ?: "xterm") < 0 ||
	    !cJSON_AddItemToArray(env, cJSON_CreateString(term)))
		return -ENOMEM;
	return 0;
}

/* On an engine: its API's exec, stdin relayed, a terminal when stdin and stdout are ones. */
static int exec_on_engine(dcfs_cli *cli, dcfs_store *s, const dcfs_container *c, char **cmd)
{
	_cleanup_(dcfs_remote_free) dcfs_remote remote = {0};
	_cleanup_(dcfs_engine_close) dcfs_engine en = {0};
	_cleanup_free_ char *state = NULL;
	if (dcfs_container_engine_open(c, &en, &cli->err) < 0)
		return -1;
	int r = c->engine_id ? dcfs_engine_state(&en, c->engine_id, &state, &cli->err) : -ENOENT;
	if (r < 0 && r != -ENOENT)
		return -1;
	if (!state || strcmp(state, "running")) {
		dcfs_error_clear(&cli->err);
		return dcfs_error_set(&cli->err, EINVAL, "container %s is not running in %s (see "
				      "'dcfs up')", c->name, c->engine);
	}
	if (dcfs_remote_load(s, c->id, &remote, &cli->err) < 0)
		return -1;
	_cleanup_free_ char *root = dcfs_container_path(s, c->id, "engine-root");
	_cleanup_free_ char *login = root ? dcfs_login_shell(root, remote.user.uid) : NULL;
	if (!login)
		return dcfs_error_set(&cli->err, ENOMEM, "out of memory");
	char *shell[] = {login, "-l", NULL};
	bool tty = isatty(0) && isatty(1);
	if (tty && add_term(remote.env) < 0)
		return dcfs_error_set(&cli->err, ENOMEM, "out of memory");
	char who[32];
	snprintf(who, sizeof(who), "%u:%u", remote.user.uid, remote.user.gid);
	dcfs_engine_exec_opts o = {.user = who, .workdir = remote.workspace_folder,
				   .env = remote.env, .cmd = cmd ? cmd : shell, .tty = tty,
				   .in_fd = 0, .out_fd = 1, .err_fd = 2};
	cli_store_close(cli); /* nothing of the store is needed while the command runs */
	fflush(stdout);
	int code;
	if (dcfs_engine_exec(&en, c->engine_id, &o, &code, &cli->err) < 0)
		return -1;
	return code;
}

static int exec_in(dcfs_cli *cli, const char *folder, const char *config, char **cmd)
{
	dcfs_store *s = NULL;
	_cleanup_(dcfs_container_free) dcfs_container c = {0};
	_cleanup_(dcfs_remote_free) dcfs_remote remote = {0};
	_cleanup_free_ char *root = NULL;
	if (cli_store(cli, &s) < 0 || dcfs_container_of(s, folder, config, &c, &cli->err) < 0)
		return -1;
	if (dcfs_container_on_engine(&c))
		return exec_on_engine(cli, s, &c, cmd);
	if (!(root = dcfs_container_runc_root(s, &cli->err)))
		return -1;
	dcfs_runc rc = {.root = root, .name = c.name};
	/* frozen while `dcfs snapshot` reads its changes: wait for that (at most 10 minutes) */
	_cleanup_free_ char *state = dcfs_container_wait_unpaused(&rc, c.id, c.name, stderr);
	if (!state || strcmp(state, "running"))
		return dcfs_error_set(&cli->err, EINVAL, "container %s is not running (see 'dcfs up')",
				      c.name);
	if (dcfs_remote_load(s, c.id, &remote, &cli->err) < 0)
		return -1;
	_cleanup_free_ char *rootfs = dcfs_container_path(s, c.id, "rootfs");
	_cleanup_free_ char *spec = dcfs_container_path(s, c.id, "bundle/config.json");
	_cleanup_free_ char *login = rootfs ? dcfs_login_shell(rootfs, remote.user.uid) : NULL;
	if (!rootfs || !spec || !login)
		return dcfs_error_set(&cli->err, ENOMEM, "out of memory");
	if (cmd && !strchr(cmd[0], '/') && dcfs_exec_lookup(rootfs, spec, remote.env, cmd[0]) == 0) {
		dcfs_error_set(&cli->err, ENOENT, "%s: command not found in container %s", cmd[0], c.name);
		return 127;
	}
	char *shell[] = {login, "-l", NULL};
	bool tty = isatty(0) && isatty(1);
	if (tty && add_term(remote.env) < 0)
		return dcfs_error_set(&cli->err, ENOMEM, "out of memory");
	_cleanup_(dcfs_runc_log_close) dcfs_runc_log log = {.fd = -1};
	if (dcfs_runc_log_open(&log) < 0)
		return dcfs_error_set(&cli->err, errno, "cannot make runc's log: %m");
	rc.exec_log = log.path;
	char **argv = dcfs_runc_exec_argv(&rc, c.id, &remote.user, remote.workspace_folder,
					  remote.env, tty, cmd ? cmd : shell);
	if (!argv)
		return dcfs_error_set(&cli->err, ENOMEM, "out of memory");
	cli_store_close(cli); /* nothing of the store is needed while the command runs */
	fflush(stdout);
	int status = dcfs_runc_exec_relay(argv, &log, &cli->err);
	dcfs_argv_free(argv);
	if (status < 0)
		return -1;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	_cleanup_free_ char *msg = code ? dcfs_runc_log_error(&log) : NULL;
	return msg ? dcfs_runc_error(&cli->err, c.name, "exec", msg) : code;
}

int cmd_exec(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'}, {0}};
	const char *config = NULL;
	int c;
	optind = 1;
	while ((c = cli_getopt(cli, argc, argv, "+", opts)) != -1) {
		if (c != 'c')
			return cli_usage(cli, NULL);
		config = optarg;
	}
	const char *folder;
	char **cmd;
	split_args(argc, argv, &folder, &cmd);
	int r = exec_in(cli, folder, config, cmd);
	return r < 0 ? 1 : r;
}
