/* Output helpers shared by the commands: the report given to library code, human sizes and
 * ages, size parsing, aligned tables. */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void report_note(void *opaque, const char *line)
{
	fprintf(opaque, "%s\n", line);
}

static void report_progress(void *opaque, const char *line)
{
	(void)opaque;
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

static void report_warning(void *opaque, const char *line)
{
	(void)opaque;
	fprintf(stderr, "dcfs: warning: %s\n", line);
	fflush(stderr);
}

static void report_output(void *opaque, const void *buf, size_t n)
{
	(void)opaque;
	fwrite(buf, 1, n, stderr);
	fflush(stderr);
}

dcfs_report cli_report(FILE *notes)
{
	return (dcfs_report){.note = notes ? report_note : NULL,
			     .progress = report_progress,
			     .warning = report_warning,
			     .output = report_output,
			     .opaque = notes};
}

void cli_human_size(uint64_t bytes, char out[16])
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(out, 16, "%lluB", (unsigned long long)bytes);
	else
		snprintf(out, 16, "%.3g%s", v, units[u]);
}

bool cli_parse_size(const char *text, uint64_t *out)
{
	/* digits, an optional fraction, an optional unit: no signs, exponents, hex, inf or nan */
	size_t digits = strspn(text, "0123456789");
	if (digits == 0)
		return false;
	size_t len = digits;
	if (text[len] == '.') {
		size_t frac = strspn(text + len + 1, "0123456789");
		if (frac == 0)
			return false;
		len += 1 + frac;
	}
	errno = 0;
	double v = strtod(text, NULL);
	const char *end = text + len;
	if (errno || !(v >= 0) || v > 1.8e19)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	double mult = 1;
	char u = (char)tolower((unsigned char)*end);
	const char *units = "kmgtp";
	const char *pos = u ? strchr(units, u) : NULL;
	if (pos) {
		bool binary = end[1] == 'i' || end[1] == 'I';
		for (const char *p = units; p <= pos; p++)
			mult *= binary ? 1024 : 1000;
		end += binary ? 2 : 1;
		if (tolower((unsigned char)*end) == 'b')
			end++;
	} else if (u == 'b') {
		end++;
	}
	if (*end || v * mult > 1.8e19)
		return false;
	*out = (uint64_t)(v * mult);
	return true;
}

void cli_human_age(int64_t then, char out[32])
{
	int64_t d = (int64_t)time(NULL) - then;
	if (d < 0)
		d = 0;
	if (d < 60)
		snprintf(out, 32, "%lld seconds ago", (long long)d);
	else if (d < 3600)
		snprintf(out, 32, "%lld minutes ago", (long long)(d / 60));
	else if (d < 86400 * 2)
		snprintf(out, 32, "%lld hours ago", (long long)(d / 3600));
	else
		snprintf(out, 32, "%lld days ago", (long long)(d / 86400));
}

void cli_table_init(cli_table *t, size_t ncols)
{
	*t = (cli_table){.ncols = ncols};
}

void cli_table_row(cli_table *t, ...)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		char **cells = realloc(t->cells, t->cap * t->ncols * sizeof(char *));
		if (!cells)
			abort();
		t->cells = cells;
	}
	va_list ap;
	va_start(ap, t);
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = va_arg(ap, const char *);
		t->cells[t->nrows * t->ncols + c] = strdup(s ? s : "");
	}
	va_end(ap);
	t->nrows++;
}

void cli_table_print(cli_table *t, FILE *f)
{
	size_t width[16] = {0};
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols && c < 16; c++) {
			size_t n = strlen(t->cells[r * t->ncols + c]);
			if (n > width[c])
				width[c] = n;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			if (c + 1 == t->ncols)
				fprintf(f, "%s\n", s);
			else
				fprintf(f, "%-*s   ", (int)width[c < 16 ? c : 15], s);
		}
	}
}

void cli_table_free(cli_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	*t = (cli_table){0};
}

int cli_no_argument_store(dcfs_cli *cli, int argc, char **argv, dcfs_store **s)
{
	if (optind != argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	return cli_store(cli, s) < 0 ? 1 : 0;
}

static int list_options(dcfs_cli *cli, int argc, char **argv, bool *json, bool *quiet,
			dcfs_store **s)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
					     {"quiet", no_argument, NULL, 'q'}, {0}};
	*json = *quiet = false;
	int c;
	optind = 0;
	while ((c = cli_getopt(cli, argc, argv, "q", opts)) != -1) {
		if (c == 'j')
			*json = true;
		else if (c == 'q')
			*quiet = true;
		else
			return cli_usage(cli, NULL);
	}
	return cli_no_argument_store(cli, argc, argv, s);
}

int cli_list(dcfs_cli *cli, int argc, char **argv, const cli_listing *l)
{
	bool json, quiet;
	dcfs_store *s = NULL;
	int rc = list_options(cli, argc, argv, &json, &quiet, &s);
	if (rc)
		return rc;
	void *list = NULL;
	size_t n = 0;
	if (l->read(s, &list, &n, &cli->err) < 0)
		return 1;
	if (json) {
		l->print_json(list, n);
	} else if (quiet) {
		for (size_t i = 0; i < n; i++)
			puts(*(char *const *)((const char *)list + i * l->item_size + l->ref_offset));
	} else {
		l->print_table(list, n);
	}
	l->free(list, n);
	return 0;
}
