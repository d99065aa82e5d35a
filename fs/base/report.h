/* How library code (fs/, launcher/) tells the user something while it works without printing:
 * the command line fills a dcfs_report with its callbacks (tools/output.c) and passes it down,
 * and the library says each line through dcfs_report_note(), dcfs_report_progress() or
 * dcfs_report_warning(). A NULL report, or a NULL callback, says nothing.
 *
 * Lines are given without their newline; where they are shown, and how, is the callbacks'
 * business. (Structured progress, such as a pull's per-layer figures, has its own callback:
 * dcfs_pull_opts.progress.) */
#pragma once

#include <stddef.h>

typedef struct dcfs_report {
	/* What was decided or done: "pulled IMAGE ...", which prebuild a container starts from,
	 * one finding of fsck. */
	void (*note)(void *opaque, const char *line);
	/* What starts now ("Running the postCreateCommand..."), to be shown at once. */
	void (*progress)(void *opaque, const char *line);
	/* Something wrong that does not stop the work. */
	void (*warning)(void *opaque, const char *line);
	/* What a command run for the user (a lifecycle command) writes, relayed as it comes. */
	void (*output)(void *opaque, const void *buf, size_t n);
	void *opaque;
} dcfs_report;

void dcfs_report_note(const dcfs_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dcfs_report_progress(const dcfs_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dcfs_report_warning(const dcfs_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dcfs_report_output(const dcfs_report *r, const void *buf, size_t n);
