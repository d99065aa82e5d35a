/* runc's own messages: the last error of its log (JSON or logfmt), said in one line with the
 * well-known ones translated, and runc's stderr line recognised by its text in the log. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runc_error.h"
#include "tap.h"

static void last_error(const char *text, const char *want)
{
	char *got = dcfs_runc_log_text_error(text);
	if (!tap_result(tap_str_eq(got, want), __FILE__, __LINE__, "last error is %s",
			want ? want : "(none)"))
		tap_diag("  got %s", got ? got : "(null)");
	free(got);
}

static void said(const char *msg, const char *step, int code, const char *want)
{
	dcfs_error e = {0};
	int got = dcfs_runc_error(&e, "dcfs-x", step, msg);
	CHECK_INT(got, code);
	CHECK_STR(e.msg, want);
	dcfs_error_clear(&e);
}

static void parsing(void)
{
	last_error("", NULL);
	last_error("{\"level\":\"warning\",\"msg\":\"just saying\",\"time\":\"t\"}\n", NULL);
	last_error("{\"level\":\"error\",\"msg\":\"first\",\"time\":\"t\"}\n"
		   "{\"level\":\"error\",\"msg\":\"exec failed: exec: \\\"x\\\": oops\",\"time\":\"t\"}\n",
		   "exec failed: exec: \"x\": oops");
	last_error("time=\"2026-12-04T17:42:38Z\" level=error msg=\"exec failed: unable to start "
		   "container process: exec: \\\"nosuch\\\": executable file not found in $PATH\"\n",
		   "exec failed: unable to start container process: exec: \"nosuch\": executable "
		   "file not found in $PATH");
	last_error("time=\"t\" level=fatal msg=bare\n", "bare");
	/* a multi-line message stays one line */
	last_error("{\"level\":\"error\",\"msg\":\"a\\nb\"}", "a b");
	/* no trailing newline, and lines that are neither */
	last_error("garbage\n{not json\ntime=\"t\" level=error msg=\"last\"", "last");
}

static void translating(void)
{
	said("exec failed: unable to start container process: exec: \"nosuch\": executable file "
	     "not found in $PATH",
	     "exec", 127, "nosuch: command not found in container dcfs-x");
	said("exec failed: unable to start container process: exec: \"/nonexistent\": stat "
	     "/nonexistent: no such file or directory",
	     "exec", 127, "/nonexistent: command not found in container dcfs-x");
	said("exec failed: unable to start container process: exec: \"/tmp/ne\": permission denied",
	     "exec", 126, "/tmp/ne: cannot execute (permission denied) in container dcfs-x");
	said("runc run failed: unable to start container process: exec: \"/bin/x\": exec format "
	     "error",
	     "run", 126, "/bin/x: cannot execute (exec format error) in container dcfs-x");
	said("runc run failed: unable to start container process: error during container init: "
	     "mkdir /etc/passwd: not a directory",
	     "run", 1,
	     "container dcfs-x: runc run: error during container init: mkdir /etc/passwd: not a "
	     "directory");
	said("container does not exist", "pause", 1, "container dcfs-x: runc pause: container does not exist");
	said("", "delete", 1, "container dcfs-x: runc delete: failed");
	/* a quoted name with a quote in it */
	said("exec: \"a\\\"b\": executable file not found in $PATH", "exec", 127,
	     "a\"b: command not found in container dcfs-x");
}

static void trimming(void)
{
	dcfs_runc_log log = {.fd = -1};
	CHECK_INT(dcfs_runc_log_open(&log), 0);
	static const char entry[] =
		"{\"level\":\"error\",\"msg\":\"exec failed: boom\",\"time\":\"t\"}\n";
	static const char line[] = "exec failed: boom\n";
	/* an empty log trims nothing */
	CHECK_INT(dcfs_runc_log_trim(&log, 1, line, strlen(line)), strlen(line));
	CHECK_INT(write(log.fd, entry, strlen(entry)), (long long)strlen(entry));
	CHECK_INT(dcfs_runc_log_trim(&log, 1, line, strlen(line)), 0);
	/* the command's output before it stays */
	static const char both[] = "from the command\nexec failed: boom\n";
	CHECK_INT(dcfs_runc_log_trim(&log, 1, both, strlen(both)), strlen("from the command\n"));
	/* the same words inside a line, or not at its end, stay */
	static const char inside[] = "say exec failed: boom\n";
	CHECK_INT(dcfs_runc_log_trim(&log, 1, inside, strlen(inside)), strlen(inside));
	static const char partial[] = "exec failed: boom";
	CHECK_INT(dcfs_runc_log_trim(&log, 1, partial, strlen(partial)), strlen(partial));
	char *msg = dcfs_runc_log_error(&log);
	CHECK_STR(msg, "exec failed: boom");
	free(msg);
	/* the log's path is this process's descriptor */
	char want[64];
	snprintf(want, sizeof(want), "/proc/%d/fd/%d", (int)getpid(), log.fd);
	CHECK_STR(log.path, want);
	dcfs_runc_log_close(&log);
	CHECK_INT(log.fd, -1);
}

int main(void)
{
	parsing();
	translating();
	trimming();
	return tap_done();
}
