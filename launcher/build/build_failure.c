/* Reading why a build failed from the builder's last lines (see build_failure.h). The patterns
 * are the builders' own words, checked against podman 4.3 here and against Docker 20.10's legacy
 * builder and BuildKit's sources:
 *   podman/buildah: Error: building at STEP "RUN exit 3": while running runtime: exit status 3
 *   Docker legacy:  The command '/bin/sh -c exit 3' returned a non-zero code: 3
 *   BuildKit:       ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3
 * A shell-form command ("/bin/sh -c X") is named as the instruction that wrote it, `RUN X`. */
#include "build_failure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* The length of the ANSI escape sequence at `p` (Docker colours RUN's stderr: ESC [ 91 m), 0
 * when there is none. */
static size_t escape_len(const char *p, size_t left)
{
	if (left < 2 || p[0] != '\033' || p[1] != '[')
		return 0;
	size_t i = 2;
	while (i < left && !(p[i] >= 0x40 && p[i] <= 0x7e))
		i++;
	return i < left ? i + 1 : left;
}

void dcfs_build_tail_add(dcfs_build_tail *t, const char *line, size_t len)
{
	if (len && line[len - 1] == '\r')
		len--;
	char *out = t->lines[t->next];
	size_t n = 0;
	for (size_t i = 0; i < len && n < DCFS_BUILD_LINE_MAX - 1;) {
		size_t skip = escape_len(line + i, len - i);
		if (skip)
			i += skip;
		else
			out[n++] = line[i++];
	}
	out[n] = 0;
	t->next = (t->next + 1) % DCFS_BUILD_TAIL_LINES;
	if (t->n < DCFS_BUILD_TAIL_LINES)
		t->n++;
}

const char *dcfs_build_tail_line(const dcfs_build_tail *t, size_t i)
{
	size_t first = (t->next + DCFS_BUILD_TAIL_LINES - t->n) % DCFS_BUILD_TAIL_LINES;
	return t->lines[(first + i) % DCFS_BUILD_TAIL_LINES];
}

/* The length of `text` without the Go structure podman appends to some errors ("Unknown
 * instruction: "FOOBAR" &imagebuilder.Step{...}"). */
static size_t go_cut(const char *text)
{
	const char *cut = strstr(text, " &imagebuilder.");
	return cut ? (size_t)(cut - text) : strlen(text);
}

/* The instruction that ran `cmd` (`len` bytes): "RUN X" for "/bin/sh -c X" and for an exec
 * form's words alike. */
static char *run_of(const char *cmd, size_t len)
{
	static const char sh[] = "/bin/sh -c ";
	if (len >= strlen(sh) && !strncmp(cmd, sh, strlen(sh)))
		cmd += strlen(sh), len -= strlen(sh);
	char *out = NULL;
	return asprintf(&out, "RUN %.*s", (int)len, cmd) < 0 ? NULL : out;
}

/* "'INSTR' failed with exit code N", N read from the digits at `code`. */
static char *failed_with(const char *instr, int ilen, const char *code)
{
	char *out = NULL;
	if (!instr || asprintf(&out, "'%.*s' failed with exit code %ld", ilen, instr,
			       strtol(code, NULL, 10)) < 0)
		return NULL;
	return out;
}

/* podman/buildah: `building at STEP "INSTR": REASON`; REASON ending in "exit status N" is a
 * failed RUN, any other names what went wrong at that step. */
static char *podman_step(const char *line)
{
	const char *at = strstr(line, "building at STEP \"");
	if (!at)
		return NULL;
	at += strlen("building at STEP \"");
	const char *end = strstr(at, "\": ");
	if (!end)
		return NULL;
	const char *reason = end + 3;
	while (end > at && end[-1] == ' ')
		end--;
	const char *status = strstr(reason, "exit status ");
	if (status && strstr(reason, "while running runtime"))
		return failed_with(at, (int)(end - at), status + strlen("exit status "));
	char *out = NULL;
	return asprintf(&out, "'%.*s': %.*s", (int)(end - at), at, (int)go_cut(reason), reason) < 0
		       ? NULL
		       : out;
}

/* A RUN whose command is quoted between `open` and `close`, its exit code after `close`:
 *   Docker's legacy builder: The command 'CMD' returned a non-zero code: N
 *   BuildKit:                process "CMD" did not complete successfully: exit code: N */
static char *quoted_run(const char *line, const char *open, const char *close)
{
	const char *at = strstr(line, open);
	const char *end = at ? strstr(at, close) : NULL;
	if (!end)
		return NULL;
	at += strlen(open);
	_cleanup_free_ char *instr = run_of(at, (size_t)(end - at));
	return failed_with(instr, -1, end + strlen(close));
}

/* A line that is the builder's error, and where its message starts. */
static const char *error_text(const char *line)
{
	static const char *const prefixes[] = {"Error: ", "ERROR: ", "error: ", "Error response from daemon: "};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(line, prefixes[i], strlen(prefixes[i])))
			return line + (i < 3 ? strlen(prefixes[i]) : 0);
	return NULL;
}

/* The message of an error line, without the Go structure podman appends to some of them. */
static char *error_of(const char *text)
{
	return strndup(text, go_cut(text));
}

static char *last_error(const dcfs_build_tail *t)
{
	for (size_t i = t->n; i-- > 0;) {
		const char *text = error_text(dcfs_build_tail_line(t, i));
		if (text && *text)
			return error_of(text);
	}
	for (size_t i = t->n; i-- > 0;) {
		const char *line = dcfs_build_tail_line(t, i);
		if (*line)
			return error_of(line);
	}
	return NULL;
}

char *dcfs_build_failure(const dcfs_build_tail *t, int code)
{
	for (size_t i = t->n; i-- > 0;) {
		const char *line = dcfs_build_tail_line(t, i);
		char *out = podman_step(line);
		if (!out)
			out = quoted_run(line, "The command '", "' returned a non-zero code: ");
		if (!out)
			out = quoted_run(line, "process \"",
					 "\" did not complete successfully: exit code: ");
		if (out)
			return out;
	}
	char *out = last_error(t);
	if (out || asprintf(&out, "exited with code %d", code) >= 0)
		return out;
	return NULL;
}
