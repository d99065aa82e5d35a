/* dcfs_engine_exec: an exec created in the container (POST /containers/ID/exec), started on a
 * hijacked connection whose streams are relayed (engine_pump.c), and its exit code read back
 * (GET /exec/ID/json). With a terminal, in_fd's terminal is in raw mode for the time of the
 * call (restored on every path) and its size follows SIGWINCH through a signalfd. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "engine_internal.h"

static cJSON *exec_body(const dcfs_engine_exec_opts *o)
{
	cJSON *b = cJSON_CreateObject();
	cJSON_AddBoolToObject(b, "AttachStdin", o->in_fd >= 0);
	cJSON_AddBoolToObject(b, "AttachStdout", true);
	cJSON_AddBoolToObject(b, "AttachStderr", true);
	cJSON_AddBoolToObject(b, "Tty", o->tty);
	if (o->user)
		cJSON_AddStringToObject(b, "User", o->user);
	if (o->workdir)
		cJSON_AddStringToObject(b, "WorkingDir", o->workdir);
	if (o->env)
		cJSON_AddItemToObject(b, "Env", cJSON_Duplicate(o->env, true));
	cJSON *cmd = cJSON_AddArrayToObject(b, "Cmd");
	for (size_t i = 0; o->cmd && o->cmd[i]; i++)
		cJSON_AddItemToArray(cmd, cJSON_CreateString(o->cmd[i]));
	return b;
}

static int exec_create(dcfs_engine *en, const char *id, const dcfs_engine_exec_opts *o,
		       const char *what, char **exec_id, dcfs_error *e)
{
	_cleanup_json_ cJSON *body = exec_body(o);
	_cleanup_free_ char *path = engine_path(en, "/containers/", id, "/exec");
	if (!body || !path)
		return -ENOMEM;
	_cleanup_json_ cJSON *reply = NULL;
	int r = dcfs_engine_call(en, "POST", path, body, what, &reply, e);
	return r < 0 ? r : engine_reply_id(en, reply, what, exec_id, e);
}

typedef struct resizer {
	dcfs_engine *en;
	const char *exec_id;
	int tty_fd;
} resizer;

/* Give the engine the terminal's size (a failure is not worth stopping the command for). */
static void resize(void *opaque)
{
	resizer *z = opaque;
	struct winsize ws;
	if (ioctl(z->tty_fd, TIOCGWINSZ, &ws) < 0 || !ws.ws_row)
		return;
	char path[256];
	snprintf(path, sizeof(path), "/exec/%s/resize?h=%u&w=%u", z->exec_id, ws.ws_row,
		 ws.ws_col);
	dcfs_error e = {0};
	dcfs_engine_call(z->en, "POST", path, NULL, "resize", NULL, &e);
	dcfs_error_clear(&e);
}

/* A terminal put in raw mode, restored by raw_restore (a cleanup). */
typedef struct raw_term {
	int fd; /* -1: nothing to restore */
	struct termios saved;
	sigset_t saved_mask;
	int winch_fd;
} raw_term;

static void raw_restore(raw_term *t)
{
	if (t->fd >= 0)
		tcsetattr(t->fd, TCSADRAIN, &t->saved);
	if (t->winch_fd >= 0) {
		close(t->winch_fd);
		pthread_sigmask(SIG_SETMASK, &t->saved_mask, NULL);
	}
	t->fd = t->winch_fd = -1;
}

/* Raw mode and a signalfd for SIGWINCH when in_fd is a terminal. */
static int raw_enter(raw_term *t, int fd)
{
	if (fd < 0 || !isatty(fd) || tcgetattr(fd, &t->saved) < 0)
		return 0;
	sigset_t winch;
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	if (pthread_sigmask(SIG_BLOCK, &winch, &t->saved_mask) != 0)
		return -EINVAL;
	t->winch_fd = signalfd(-1, &winch, SFD_NONBLOCK | SFD_CLOEXEC);
	if (t->winch_fd < 0) {
		int r = -errno;
		pthread_sigmask(SIG_SETMASK, &t->saved_mask, NULL);
		return r;
	}
	struct termios raw = t->saved;
	cfmakeraw(&raw);
	if (tcsetattr(fd, TCSADRAIN, &raw) < 0)
		return -errno;
	t->fd = fd;
	return 0;
}

static int run_stream(dcfs_engine *en, const char *exec_id, const dcfs_engine_exec_opts *o,
		      const char *what, dcfs_error *e)
{
	_cleanup_(raw_restore) raw_term term = {.fd = -1, .winch_fd = -1};
	int r = o->tty ? raw_enter(&term, o->in_fd) : 0;
	if (r < 0)
		return dcfs_error_set(e, r, "%s: %s: cannot set up the terminal: %s", en->kind,
				      what, strerror(-r));
	char path[256], body[64];
	snprintf(path, sizeof(path), "/exec/%s/start", exec_id);
	snprintf(body, sizeof(body), "{\"Detach\":false,\"Tty\":%s}", o->tty ? "true" : "false");
	engine_hijack h;
	r = engine_hijack_open(en, path, body, what, &h, e);
	resizer z = {.en = en, .exec_id = exec_id, .tty_fd = term.fd};
	if (r >= 0 && term.fd >= 0)
		resize(&z);
	engine_pump p = {.sock = h.fd, .in_fd = o->in_fd, .out_fd = o->out_fd,
			 .err_fd = o->err_fd, .winch_fd = term.winch_fd, .tty = o->tty,
			 .resize = resize, .opaque = &z};
	if (r >= 0 && (r = engine_pump_run(&p, &h.rest, e)) < 0)
		dcfs_error_wrap(e, "%s: %s", en->kind, what);
	engine_hijack_close(&h);
	return r;
}

/* The exit code, once the engine no longer says it runs (it may lag the stream's end). */
static int exit_code(dcfs_engine *en, const char *exec_id, const char *what, int *code,
		     dcfs_error *e)
{
	char path[256];
	snprintf(path, sizeof(path), "/exec/%s/json", exec_id);
	for (int i = 0; i < 500; i++) {
		_cleanup_json_ cJSON *j = NULL;
		int r = dcfs_engine_call(en, "GET", path, NULL, what, &j, e);
		if (r < 0)
			return r;
		cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "ExitCode");
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "Running")) &&
		    cJSON_IsNumber(c)) {
			*code = c->valueint;
			return 0;
		}
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
	return dcfs_error_set(e, ETIMEDOUT, "%s: %s: still running after its stream ended",
			      en->kind, what);
}

int dcfs_engine_exec(dcfs_engine *en, const char *id, const dcfs_engine_exec_opts *o,
		     int *exit_code_out, dcfs_error *e)
{
	_cleanup_free_ char *what = NULL, *exec_id = NULL;
	if (asprintf(&what, "exec '%s' in container '%s'", o->cmd && o->cmd[0] ? o->cmd[0] : "",
		     id) < 0)
		return -ENOMEM;
	int r = exec_create(en, id, o, what, &exec_id, e);
	if (r >= 0)
		r = run_stream(en, exec_id, o, what, e);
	if (r >= 0)
		r = exit_code(en, exec_id, what, exit_code_out, e);
	return r;
}
