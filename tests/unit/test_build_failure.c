/* Why a build failed, read from a builder's last output lines (launcher/build/build_failure.c):
 * the failing instruction and its exit code from podman/buildah, Docker's legacy builder and
 * BuildKit, the builder's last error line otherwise, and the tail of the last 20 lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_failure.h"
#include "tap.h"

/* The failure of an output given as one text (lines split at '\n'). */
static void failure(const char *output, int code, const char *want)
{
	dcfs_build_tail *t = calloc(1, sizeof(*t));
	for (const char *p = output; *p;) {
		size_t len = strcspn(p, "\n");
		dcfs_build_tail_add(t, p, len);
		p += len + (p[len] == '\n');
	}
	char *got = dcfs_build_failure(t, code);
	if (!tap_result(tap_str_eq(got, want), __FILE__, __LINE__, "failure is %s", want))
		tap_diag("  got %s", got ? got : "(null)");
	free(got);
	free(t);
}

static void run_failures(void)
{
	/* podman 4.3's own output, from a build run here */
	failure("STEP 1/3: FROM scratch\nSTEP 2/3: COPY rootfs/ /\n--> 64d0949dac7\n"
		"STEP 3/3: RUN echo before; exit 3\nbefore\n"
		"Error: building at STEP \"RUN echo before; exit 3\": while running runtime: exit "
		"status 3\n",
		3, "'RUN echo before; exit 3' failed with exit code 3");
	failure("/bin/sh: nonexistcmd: not found\r\nError: building at STEP \"RUN nonexistcmd\": "
		"while running runtime: exit status 127\r\n",
		127, "'RUN nonexistcmd' failed with exit code 127");
	/* Docker 20.10's legacy builder */
	failure("Step 3/3 : RUN exit 3\n ---> Running in 5d1c\n"
		"The command '/bin/sh -c exit 3' returned a non-zero code: 3\n",
		3, "'RUN exit 3' failed with exit code 3");
	/* its RUN's stderr comes coloured */
	failure("\033[91mtouch: mine: Permission denied\n\033[0mThe command '/bin/sh -c touch mine' "
		"returned a non-zero code: 1\n",
		1, "'RUN touch mine' failed with exit code 1");
	failure("\033[91mError: something \033[0mbroke\033[", 1, "something broke");
	failure("The command 'false' returned a non-zero code: 1\n", 1,
		"'RUN false' failed with exit code 1");
	/* BuildKit */
	failure("#5 [2/2] RUN exit 3\n#5 ERROR: process \"/bin/sh -c exit 3\" did not complete "
		"successfully: exit code: 3\n------\n > [2/2] RUN exit 3:\n------\n"
		"ERROR: failed to solve: process \"/bin/sh -c exit 3\" did not complete "
		"successfully: exit code: 3\n",
		1, "'RUN exit 3' failed with exit code 3");
}

static void other_failures(void)
{
	/* a step that fails without running anything: the instruction and the builder's reason */
	failure("STEP 2/2: COPY nothere /\nError: building at STEP \"COPY nothere /\": checking on "
		"sources under \"/ctx\": copier: stat: \"/nothere\": no such file or directory\n",
		125, "'COPY nothere /': checking on sources under \"/ctx\": copier: stat: "
		     "\"/nothere\": no such file or directory");
	/* podman's Go structure after an unknown instruction is cut */
	failure("STEP 2/2: FOOBAR x\nError: building at STEP \"FOOBAR \": Build error: Unknown "
		"instruction: \"FOOBAR\" &imagebuilder.Step{Env:[]string{\"PATH=/bin\"}}\n",
		125, "'FOOBAR': Build error: Unknown instruction: \"FOOBAR\"");
	/* a missing base image: the last error line, after podman's warnings */
	failure("Trying to pull localhost:1/nonexist:1...\ntime=\"t\" level=warning msg=\"Failed, "
		"retrying\"\nError: creating build container: initializing source "
		"docker://localhost:1/nonexist:1: connection refused\n",
		125, "creating build container: initializing source docker://localhost:1/nonexist:1: "
		     "connection refused");
	failure("Sending build context to Docker daemon  2.048kB\nError response from daemon: "
		"dockerfile parse error line 2: unknown instruction: FOOBAR\n",
		1, "Error response from daemon: dockerfile parse error line 2: unknown instruction: "
		   "FOOBAR");
	/* no error line: the last line; no output: the exit code */
	failure("something odd\n\n", 2, "something odd");
	failure("", 137, "exited with code 137");
}

static void tail_keeps_last_lines(void)
{
	dcfs_build_tail *t = calloc(1, sizeof(*t));
	char line[32];
	for (int i = 0; i < 25; i++) {
		int n = snprintf(line, sizeof(line), "line %d", i);
		dcfs_build_tail_add(t, line, (size_t)n);
	}
	CHECK_INT(t->n, DCFS_BUILD_TAIL_LINES);
	CHECK_STR(dcfs_build_tail_line(t, 0), "line 5");
	CHECK_STR(dcfs_build_tail_line(t, DCFS_BUILD_TAIL_LINES - 1), "line 24");
	char *long_line = tap_filled("", 'x', 5000, "");
	dcfs_build_tail_add(t, long_line, strlen(long_line));
	CHECK_INT(strlen(dcfs_build_tail_line(t, DCFS_BUILD_TAIL_LINES - 1)), DCFS_BUILD_LINE_MAX - 1);
	free(long_line);
	free(t);
}

int main(void)
{
	run_failures();
	other_failures();
	tail_keeps_last_lines();
	return tap_done();
}
