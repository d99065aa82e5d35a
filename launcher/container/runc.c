/* runc as a child process: run a bundle detached, read a container's state, stop and delete
 * it, and build `runc exec` command lines. The container's stdio goes to the container's log;
 * runc's own messages to a log of each call's own, whose last error a failure says in one line
 * (runc_error.h). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "jsonc.h"
#include "runc_error.h"
#include "runtime.h"

/* Run argv and return its standard output (stderr discarded) in *out; the exit status. */
static int capture(char *const *argv, char **out)
{
	*out = NULL;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	_cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t pid;
	int r = devnull < 0 ? -errno : dcfs_spawn_fds(argv, p[1], devnull, &pid);
	close(p[1]);
	_cleanup_close_ int rd = p[0];
	if (r < 0)
		return r;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;
	while (buf && (n = read(rd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2) {
			char *grown = realloc(buf, cap *= 2);
			if (!grown)
				free(buf);
			buf = grown;
		}
	}
	if (buf)
		buf[len] = 0;
	*out = buf;
	return dcfs_wait(pid);
}

char *dcfs_log_tail(const char *log, off_t offset)
{
	_cleanup_close_ int fd = open(log, O_RDONLY | O_CLOEXEC);
	char buf[4096] = "";
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0) {
		off_t from = st.st_size - (off_t)sizeof(buf) + 1;
		from = from > offset ? from : offset;
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
		buf[n > 0 ? n : 0] = 0;
	}
	size_t len = strlen(buf);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = 0;
	char *nl = strrchr(buf, '\n');
	return strdup(nl ? nl + 1 : buf);
}

/* The container in messages: its name, else its id. */
static const char *name_of(const dcfs_runc *rc, const char *id)
{
	return rc->name ? rc->name : id;
}

/* `runc --root ROOT --log LOG --log-format json ARGS...` (ARGS NULL-terminated, at most 8) with
 * stdout and stderr to `out_fd`, LOG a log of its own: its exit status, or -errno; *msg the
 * last error runc logged when it failed (malloc'd; NULL: none). */
static int runc_logged(const dcfs_runc *rc, const char *const *args, int out_fd, char **msg)
{
	*msg = NULL;
	dcfs_runc_log log = {.fd = -1};
	int r = dcfs_runc_log_open(&log);
	if (r < 0)
		return r;
	char *argv[16] = {"runc", "--root", (char *)rc->root, "--log", log.path, "--log-format",
			  "json"};
	for (size_t n = 7; *args && n < ELEMENTSOF(argv) - 1; n++)
		argv[n] = (char *)*args++;
	int status = dcfs_spawn_wait(argv, out_fd);
	if (status >= 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		*msg = dcfs_runc_log_error(&log);
	dcfs_runc_log_close(&log);
	return status;
}

static int no_runc(dcfs_error *e, int status)
{
	return dcfs_error_set(e, status, "cannot run runc: %s (apt-get install runc)",
			      strerror(-status));
}

int dcfs_runc_run(const dcfs_runc *rc, const char *id, const char *bundle, dcfs_error *e)
{
	_cleanup_close_ int log = open(rc->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log < 0)
		return dcfs_error_set(e, errno, "cannot open '%s': %m", rc->log);
	struct stat st;
	off_t offset = fstat(log, &st) == 0 ? st.st_size : 0;
	_cleanup_free_ char *msg = NULL;
	int status = runc_logged(rc, (const char *[]){"run", "-d", "--bundle", bundle, id, NULL},
				 log, &msg);
	if (status < 0)
		return no_runc(e, status);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!msg) /* runc died without logging: its last words are in the container's log */
		msg = dcfs_log_tail(rc->log, offset);
	int code = dcfs_runc_error(e, name_of(rc, id), "run", msg ? msg : "");
	return code == 127 ? -ENOENT : code == 126 ? -EACCES : -EIO;
}

/* `runc state` as JSON; NULL when runc does not know the container. */
static cJSON *state_json(const dcfs_runc *rc, const char *id, int *r)
{
	char *argv[] = {"runc", "--root", (char *)rc->root, "state", (char *)id, NULL};
	_cleanup_free_ char *text = NULL;
	int status = capture(argv, &text);
	*r = status < 0 ? status : 0;
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !text)
		return NULL;
	return cJSON_Parse(text);
}

int dcfs_runc_pid(const dcfs_runc *rc, const char *id, pid_t *pid)
{
	int r;
	_cleanup_json_ cJSON *j = state_json(rc, id, &r);
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "pid");
	*pid = cJSON_IsNumber(p) && p->valuedouble > 0 ? (pid_t)p->valuedouble : 0;
	return r < 0 ? r : *pid ? 0 : -ESRCH;
}

int dcfs_runc_state(const dcfs_runc *rc, const char *id, char **out)
{
	*out = NULL;
	int r;
	_cleanup_json_ cJSON *j = state_json(rc, id, &r);
	if (r < 0 || !j)
		return r;
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status"));
	if (s && !(*out = strdup(s)))
		return -ENOMEM;
	return 0;
}

/* `runc VERB ID [ARG]` with its output dropped; as runc_logged(). */
static int runc_quiet(const dcfs_runc *rc, const char *verb, const char *id, const char *arg,
		      char **msg)
{
	_cleanup_close_ int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	return runc_logged(rc, (const char *[]){verb, id, arg, NULL}, devnull, msg);
}

static bool wait_stopped(const dcfs_runc *rc, const char *id, int timeout_ms)
{
	for (int waited = 0;; waited += 50) {
		_cleanup_free_ char *state = NULL;
		dcfs_runc_state(rc, id, &state);
		if (!state || strcmp(state, "running"))
			return true;
		if (waited >= timeout_ms)
			return false;
		nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
	}
}

/* The container's log says that SIGTERM was not enough (`dcfs logs` shows it). */
static void log_killed(const dcfs_runc *rc, const char *id, int timeout_ms)
{
	_cleanup_close_ int log =
		rc->log ? open(rc->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
	if (log >= 0)
		dprintf(log, "dcfs: container %s did not stop within %d s of SIGTERM: killed\n",
			rc->name ? rc->name : id, timeout_ms / 1000);
}

int dcfs_runc_stop(const dcfs_runc *rc, const char *id, int timeout_ms, dcfs_error *e)
{
	_cleanup_free_ char *ignored = NULL, *msg = NULL; /* gone already: quiet */
	runc_quiet(rc, "kill", id, "TERM", &ignored);
	if (!wait_stopped(rc, id, timeout_ms)) {
		log_killed(rc, id, timeout_ms);
		free(TAKE_PTR(ignored));
		runc_quiet(rc, "kill", id, "KILL", &ignored);
		wait_stopped(rc, id, 5000);
	}
	_cleanup_close_ int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int status = runc_logged(rc, (const char *[]){"delete", "--force", id, NULL}, devnull, &msg);
	if (status < 0)
		return no_runc(e, status);
	_cleanup_free_ char *state = NULL;
	dcfs_runc_state(rc, id, &state);
	if (!state)
		return 0;
	if (msg)
		return dcfs_runc_error(e, name_of(rc, id), "delete", msg), -EBUSY;
	return dcfs_error_set(e, EBUSY, "container %s: runc delete: it is still %s",
			      name_of(rc, id), state);
}

int dcfs_runc_freeze(const dcfs_runc *rc, const char *id, bool freeze, dcfs_error *e)
{
	const char *verb = freeze ? "pause" : "resume";
	_cleanup_free_ char *msg = NULL;
	int status = runc_quiet(rc, verb, id, NULL, &msg);
	if (status < 0)
		return no_runc(e, status);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return dcfs_runc_error(e, name_of(rc, id), verb, msg ? msg : ""), -EIO;
	return 0;
}

static int push(char ***v, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int push(char ***v, size_t *n, const char *fmt, ...)
{
	char **grown = realloc(*v, (*n + 2) * sizeof(char *));
	if (!grown)
		return -ENOMEM;
	*v = grown;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&grown[*n], fmt, ap);
	va_end(ap);
	if (r < 0)
		return grown[*n] = NULL, -ENOMEM;
	grown[++*n] = NULL;
	return 0;
}

char **dcfs_runc_exec_argv(const dcfs_runc *rc, const char *id, const dcfs_user *user,
			   const char *cwd, const cJSON *env, bool tty, char *const *cmd)
{
	char **v = NULL;
	size_t n = 0;
	int r = push(&v, &n, "runc") ?: push(&v, &n, "--root") ?: push(&v, &n, "%s", rc->root);
	if (rc->exec_log)
		r = r ?: push(&v, &n, "--log") ?: push(&v, &n, "%s", rc->exec_log) ?:
			 push(&v, &n, "--log-format") ?: push(&v, &n, "json");
	r = r ?: push(&v, &n, "exec") ?: push(&v, &n, "--user") ?:
		 push(&v, &n, "%u:%u", user->uid, user->gid);
	r = r ?: push(&v, &n, "--cwd") ?: push(&v, &n, "%s", cwd);
	r = r ?: push(&v, &n, "--env") ?: push(&v, &n, "HOME=%s", user->home);
	if (user->name)
		r = r ?: push(&v, &n, "--env") ?: push(&v, &n, "USER=%s", user->name);
	const cJSON *it;
	cJSON_ArrayForEach(it, env) if (cJSON_IsString(it)) r =
		r ?: push(&v, &n, "--env") ?: push(&v, &n, "%s", it->valuestring);
	if (tty)
		r = r ?: push(&v, &n, "-t");
	r = r ?: push(&v, &n, "%s", id);
	for (; !r && *cmd; cmd++)
		r = push(&v, &n, "%s", *cmd);
	if (r < 0)
		return dcfs_argv_free(v), NULL;
	return v;
}

void dcfs_argv_free(char **argv)
{
	for (char **p = argv; p && *p; p++)
		free(*p);
	free(argv);
}
