/* Running lifecycle commands (see lifecycle.h). Every process of one command writes into one
 * pipe; we relay what arrives to the report and keep the last lines for an error message. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "lifecycle.h"
#include "runc_error.h"

#define TAIL_LINES 3
#define MAX_PROCS 64

typedef struct tail {
	char buf[2048];
	size_t len;
} tail;

static void tail_add(tail *t, const char *data, size_t n)
{
	if (n >= sizeof(t->buf)) {
		data += n - (sizeof(t->buf) - 1);
		n = sizeof(t->buf) - 1;
	}
	if (t->len + n >= sizeof(t->buf)) {
		size_t drop = t->len + n - (sizeof(t->buf) - 1);
		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->buf + t->len, data, n);
	t->len += n;
	t->buf[t->len] = 0;
}

/* The last TAIL_LINES non-empty lines joined with " | ", in place. */
static const char *tail_lines(tail *t)
{
	char *lines[TAIL_LINES];
	size_t n = 0;
	char *end = t->buf + t->len;
	while (end > t->buf && n < TAIL_LINES) {
		while (end > t->buf && (end[-1] == '\n' || end[-1] == '\r'))
			*--end = 0;
		char *start = end;
		while (start > t->buf && start[-1] != '\n')
			start--;
		if (start < end)
			lines[n++] = start;
		end = start;
	}
	static char out[sizeof(t->buf) + 16];
	out[0] = 0;
	for (size_t i = n; i-- > 0;) {
		strncat(out, lines[i], sizeof(out) - strlen(out) - 4);
		if (i)
			strncat(out, " | ", sizeof(out) - strlen(out) - 1);
	}
	return out;
}

/* argv for one process: a string through /bin/sh -c, an array as is; NULL-terminated,
 * pointing into `cmd` except for the shell's words. */
static const char **command_argv(const cJSON *cmd)
{
	size_t n = cJSON_IsString(cmd) ? 3 : (size_t)cJSON_GetArraySize(cmd);
	const char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return NULL;
	if (cJSON_IsString(cmd)) {
		v[0] = "/bin/sh", v[1] = "-c", v[2] = cmd->valuestring;
		return v;
	}
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, cmd) if (cJSON_IsString(it)) v[i++] = it->valuestring;
	return v;
}

/* One process; in the container, runc's own messages go to `log` (opened here). */
static pid_t start(const dcfs_lifecycle *l, const cJSON *cmd, int out_fd, dcfs_runc_log *log)
{
	_cleanup_free_ const char **words = command_argv(cmd);
	char **argv = NULL;
	if (!words || !words[0])
		return -EINVAL;
	if (l->id && l->runc->engine) {
		pid_t pid;
		int r = dcfs_engine_exec_spawn(l->runc->engine, l->user, l->cwd, l->env,
					       (char *const *)words, -1, out_fd, out_fd, &pid);
		return r < 0 ? r : pid;
	}
	if (l->id && dcfs_runc_log_open(log) < 0)
		return -errno;
	dcfs_runc rc = l->id ? *l->runc : (dcfs_runc){0};
	rc.exec_log = log->path;
	if (l->id && !(argv = dcfs_runc_exec_argv(&rc, l->id, l->user, l->cwd, l->env, false,
						 (char *const *)words)))
		return -ENOMEM;
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		dup2(out_fd, 1);
		dup2(out_fd, 2);
		if (!l->id && chdir(l->cwd) < 0)
			_exit(127);
		if (argv)
			execvp(argv[0], argv);
		else
			execvp(words[0], (char *const *)words);
		dprintf(2, "cannot run '%s': %m\n", argv ? argv[0] : words[0]);
		_exit(127);
	}
	dcfs_argv_free(argv);
	return pid < 0 ? -errno : pid;
}

/* Start the processes of one command value; their pids in pids[], how many in *n (also when
 * one fails to start: those started are still to be reaped). */
static int start_all(const dcfs_lifecycle *l, const cJSON *command, int out_fd, pid_t *pids,
		     dcfs_runc_log *logs, int *n)
{
	*n = 0;
	if (!cJSON_IsObject(command)) {
		pid_t p = start(l, command, out_fd, &logs[0]);
		return p < 0 ? (int)p : (pids[(*n)++] = p, 0);
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, command)
	{
		if (*n == MAX_PROCS)
			return -E2BIG;
		pid_t p = start(l, it, out_fd, &logs[*n]);
		if (p < 0)
			return (int)p;
		pids[(*n)++] = p;
	}
	return 0;
}

/* The processes' output to the report, the log and the tail, less runc's own error lines (each
 * process's runc log, in `logs`, says which). */
static void drain(int fd, tail *t, const dcfs_lifecycle *l, const dcfs_runc_log *logs,
		  size_t nlogs)
{
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0)
			n = (ssize_t)dcfs_runc_log_trim(logs, nlogs, buf, (size_t)n);
		if (n <= 0)
			continue;
		dcfs_report_output(l->report, buf, (size_t)n);
		if (l->log)
			fwrite(buf, 1, (size_t)n, l->log);
		tail_add(t, buf, (size_t)n);
	}
	if (l->log)
		fflush(l->log);
}

/* "Running the postCreateCommand...", as the reference CLI says it: progress for the user, and
 * a line of the log. */
static void label(const dcfs_lifecycle *l, const char *name)
{
	dcfs_report_progress(l->report, "Running the %s%s...", name, l->id ? "" : " on the host");
	if (l->log) {
		fprintf(l->log, "Running the %s%s...\n", name, l->id ? "" : " on the host");
		fflush(l->log);
	}
}

static bool empty(const cJSON *c)
{
	return !c || cJSON_IsNull(c) || (cJSON_IsString(c) && !*c->valuestring) ||
	       ((cJSON_IsArray(c) || cJSON_IsObject(c)) && !c->child);
}

/* Wait for the `n` processes; the first failure is the command's: its exit code and output's
 * last lines, or what runc said when it could not run it (a command not found: 127). */
static int reap(const dcfs_lifecycle *l, const char *name, const pid_t *pids,
		const dcfs_runc_log *logs, int n, tail *t, dcfs_error *e)
{
	int failed = 0;
	_cleanup_free_ char *runc_msg = NULL;
	for (int i = 0; i < n; i++) {
		int status;
		while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
			;
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (!failed && code) {
			failed = code;
			runc_msg = dcfs_runc_log_error(&logs[i]);
		}
	}
	if (!failed)
		return 0;
	if (!runc_msg)
		return dcfs_error_set(e, EIO, "%s failed with exit code %d: %s", name, failed,
				      tail_lines(t));
	_cleanup_error_ dcfs_error said = {0};
	failed = dcfs_runc_error(&said, l->runc->name ? l->runc->name : l->id, "exec", runc_msg);
	return dcfs_error_set(e, said.code, "%s failed with exit code %d: %s", name, failed,
			      said.msg);
}

int dcfs_lifecycle_run(const dcfs_lifecycle *l, const char *name, const cJSON *command,
		       dcfs_error *e)
{
	if (empty(command))
		return 0;
	label(l, name);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return dcfs_error_set(e, errno, "%s: %m", name);
	pid_t pids[MAX_PROCS];
	dcfs_runc_log logs[MAX_PROCS];
	for (size_t i = 0; i < MAX_PROCS; i++)
		logs[i] = (dcfs_runc_log){.fd = -1};
	int n;
	int started = start_all(l, command, p[1], pids, logs, &n);
	close(p[1]);
	tail t = {.len = 0};
	drain(p[0], &t, l, logs, (size_t)n);
	close(p[0]);
	int r = reap(l, name, pids, logs, n, &t, e);
	for (size_t i = 0; i < MAX_PROCS; i++)
		dcfs_runc_log_close(&logs[i]);
	if (started < 0)
		return dcfs_error_set(e, started, "%s: cannot start: %s", name, strerror(-started));
	return r;
}

int dcfs_lifecycle_run_all(const dcfs_lifecycle *l, const char *name, const cJSON *commands,
			   dcfs_error *e)
{
	if (!cJSON_IsArray(commands))
		return dcfs_lifecycle_run(l, name, commands, e);
	const cJSON *it;
	cJSON_ArrayForEach(it, commands)
	{
		int r = dcfs_lifecycle_run(l, name, it, e);
		if (r < 0)
			return r;
	}
	return 0;
}
