/* runc's own messages: its log file, the last error in it, and that error in one line (see
 * runc_error.h). */
#include "runc_error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "jsonc.h"

int dcfs_runc_log_open(dcfs_runc_log *log)
{
	log->fd = memfd_create("runc-log", MFD_CLOEXEC);
	if (log->fd < 0)
		return -errno;
	snprintf(log->path, sizeof(log->path), "/proc/%d/fd/%d", (int)getpid(), log->fd);
	return 0;
}

void dcfs_runc_log_close(dcfs_runc_log *log)
{
	if (log->fd >= 0)
		close(log->fd);
	log->fd = -1;
}

/* The log's text (at most 1 MiB, its end), NUL-terminated; NULL when empty or unreadable. */
static char *log_text(const dcfs_runc_log *log)
{
	struct stat st;
	if (log->fd < 0 || fstat(log->fd, &st) < 0 || st.st_size == 0)
		return NULL;
	size_t len = st.st_size > (1 << 20) ? 1 << 20 : (size_t)st.st_size;
	char *buf = malloc(len + 1);
	ssize_t n = buf ? pread(log->fd, buf, len, st.st_size - (off_t)len) : -1;
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

char *dcfs_runc_log_error(const dcfs_runc_log *log)
{
	_cleanup_free_ char *text = log_text(log);
	return text ? dcfs_runc_log_text_error(text) : NULL;
}

/* A Go-quoted string at `p` (just after its opening quote) unquoted into a new string, up to
 * the closing quote (*end just after it). Escapes other than \" and \\ become a space: a
 * message is one line. */
static char *unquote(const char *p, const char **end)
{
	char *out = malloc(strlen(p) + 1), *w = out;
	if (!out)
		return NULL;
	for (; *p && *p != '"'; p++) {
		if (*p != '\\' || !p[1]) {
			*w++ = *p;
			continue;
		}
		p++;
		*w++ = *p == '"' || *p == '\\' ? *p : ' ';
	}
	*w = '\0';
	*end = *p == '"' ? p + 1 : p;
	return out;
}

/* A logfmt line's msg when its level is error or fatal; NULL otherwise. */
static char *logfmt_error(const char *line)
{
	if (!strstr(line, "level=error") && !strstr(line, "level=fatal"))
		return NULL;
	const char *m = strstr(line, "msg=");
	if (!m)
		return NULL;
	m += 4;
	if (*m == '"') {
		const char *end;
		return unquote(m + 1, &end);
	}
	return strndup(m, strcspn(m, " "));
}

/* A JSON line's msg when its level is error or fatal; NULL otherwise. */
static char *json_error(const char *line)
{
	_cleanup_json_ cJSON *j = cJSON_Parse(line);
	const char *level = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "level"));
	const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "msg"));
	if (!level || !msg || (strcmp(level, "error") && strcmp(level, "fatal")))
		return NULL;
	char *out = strdup(msg);
	for (char *p = out; p && *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return out;
}

/* The msg of the next error entry from *pos on (*pos moved past its line); NULL when there is
 * none left. */
static char *next_error(const char **pos)
{
	while (**pos) {
		const char *line = *pos;
		size_t len = strcspn(line, "\n");
		*pos += len + (line[len] == '\n');
		_cleanup_free_ char *copy = strndup(line, len);
		char *msg = !copy ? NULL : *copy == '{' ? json_error(copy) : logfmt_error(copy);
		if (msg)
			return msg;
	}
	return NULL;
}

char *dcfs_runc_log_text_error(const char *text)
{
	char *last = NULL, *msg;
	while ((msg = next_error(&text))) {
		free(last);
		last = msg;
	}
	return last;
}

/* Whether buf[0..len) ends with the line "MSG\n"; where that line starts. */
static bool ends_with_line(const char *buf, size_t len, const char *msg, size_t *start)
{
	size_t m = strlen(msg);
	if (!m || len < m + 1 || buf[len - 1] != '\n')
		return false;
	*start = len - 1 - m;
	return !memcmp(buf + *start, msg, m) && (*start == 0 || buf[*start - 1] == '\n');
}

size_t dcfs_runc_log_trim(const dcfs_runc_log *logs, size_t n, const char *buf, size_t len)
{
	if (!len || buf[len - 1] != '\n')
		return len; /* runc writes its line whole, in one write */
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *text = log_text(&logs[i]);
		const char *pos = text ? text : "";
		char *msg;
		while ((msg = next_error(&pos))) {
			size_t start;
			bool found = ends_with_line(buf, len, msg, &start);
			free(msg);
			if (found)
				return start;
		}
	}
	return len;
}

/* runc's wrapping of what went wrong, dropped from the front of its message. */
static const char *unwrapped(const char *msg)
{
	static const char *const wrappers[] = {"runc run failed: ", "exec failed: ",
					       "unable to start container process: "};
	for (bool again = true; again;) {
		again = false;
		for (size_t i = 0; i < ELEMENTSOF(wrappers); i++)
			if (!strncmp(msg, wrappers[i], strlen(wrappers[i]))) {
				msg += strlen(wrappers[i]);
				again = true;
			}
	}
	return msg;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);
	return a >= b && !strcmp(s + a - b, tail);
}

int dcfs_runc_error(dcfs_error *e, const char *name, const char *step, const char *msg)
{
	msg = unwrapped(msg);
	/* the command: exec: "NAME": WHY (Go's %q) */
	if (!strncmp(msg, "exec: \"", 7)) {
		const char *why;
		_cleanup_free_ char *cmd = unquote(msg + 7, &why);
		why = !strncmp(why, ": ", 2) ? why + 2 : why;
		if (cmd && (!strcmp(why, "executable file not found in $PATH") ||
			    ends_with(why, "no such file or directory"))) {
			dcfs_error_set(e, ENOENT, "%s: command not found in container %s", cmd, name);
			return 127;
		}
		if (cmd && (!strcmp(why, "permission denied") || !strcmp(why, "exec format error"))) {
			dcfs_error_set(e, EACCES, "%s: cannot execute (%s) in container %s", cmd, why,
				       name);
			return 126;
		}
	}
	dcfs_error_set(e, EIO, "container %s: runc %s: %s", name, step, *msg ? msg : "failed");
	return 1;
}
