/* The command line: the command table, the context each command gets, and output helpers. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "feature_table.h"
#include "report.h"
#include "store.h"

/* Exit codes: 0 success, 1 failure, 2 usage. */
enum { EXIT_USAGE = 2 };

/* What a command needs before it runs (dcfs_command.needs). main refuses a command that needs
 * root to other users before it starts, and opens the store the command needs the first time
 * the command asks for it (cli_store), once, so that what the command checks first (its
 * options, a configuration) is still said first; main closes it after the command. */
enum {
	DCFS_CMD_ROOT = 1 << 0,            /* runs containers or mounts: refused for other users */
	DCFS_CMD_STORE_READ = 1 << 1,      /* queries; a missing store reads as empty, made nowhere */
	DCFS_CMD_STORE_WRITE = 1 << 2,     /* adds objects beside other writers (the shared lock) */
	DCFS_CMD_STORE_EXCLUSIVE = 1 << 3, /* removes objects: waits for the writers (rmi, prune) */
	DCFS_CMD_STORE_CREATE = 1 << 4,    /* with one of the above: the store made when missing */
	DCFS_CMD_STORE_OPTIONAL = 1 << 5,  /* a store that cannot be opened is no store, no error */
};

typedef struct dcfs_cli {
	const char *store_path; /* resolved: --store, $DCFS_STORE or the default */
	const char *command;
	/* DCFS_CMD_STORE_* from the command table; a command whose need depends on an option
	 * (fsck --repair, mount --workspace) changes it before its first cli_store */
	unsigned store_needs;
	dcfs_store *store; /* main's: opened by cli_store, closed by main */
	dcfs_error err;    /* filled by a failing command; main prints it once */
} dcfs_cli;

typedef int (*dcfs_cmd_fn)(int argc, char **argv, dcfs_cli *cli);

typedef struct dcfs_command {
	const char *name;
	dcfs_cmd_fn fn;
	const char *usage;
	const char *summary;
	unsigned needs; /* DCFS_CMD_* */
} dcfs_command;

/* What the commands give library code to tell the user something (report.h): notes on `notes`
 * (NULL: none), progress lines and commands' output on stderr, warnings on stderr as
 * "dcfs: warning: LINE". */
dcfs_report cli_report(FILE *notes);

struct dcfs_pull_event;
/* Pull progress as `dcfs pull` shows it: a line per layer rewritten in place on a terminal
 * (`tty`), JSON events with `json`, nothing otherwise; for dcfs_pull_opts.progress. */
typedef struct cli_pull_progress_state {
	bool json, tty;
	FILE *out;
	size_t lines; /* layer lines printed so far (the cursor is below them) */
} cli_pull_progress_state;
void cli_pull_progress(const struct dcfs_pull_event *ev, void *opaque);

/* Commands: each returns an exit code; on failure it fills cli->err (or prints usage). */
int cmd_import(int argc, char **argv, dcfs_cli *cli);
int cmd_images(int argc, char **argv, dcfs_cli *cli);
int cmd_rmi(int argc, char **argv, dcfs_cli *cli);
int cmd_du(int argc, char **argv, dcfs_cli *cli);
int cmd_prune(int argc, char **argv, dcfs_cli *cli);
int cmd_fsck(int argc, char **argv, dcfs_cli *cli);
int cmd_mount(int argc, char **argv, dcfs_cli *cli);
int cmd_umount(int argc, char **argv, dcfs_cli *cli);
int cmd_info(int argc, char **argv, dcfs_cli *cli);
/* dcfs --version: dcfs's, libfuse's, and the workspace's data path in this build */
void cli_print_version(FILE *f);
int cmd_read_configuration(int argc, char **argv, dcfs_cli *cli);
int cmd_up(int argc, char **argv, dcfs_cli *cli);
int cmd_exec(int argc, char **argv, dcfs_cli *cli);
int cmd_down(int argc, char **argv, dcfs_cli *cli);
int cmd_rm(int argc, char **argv, dcfs_cli *cli);
int cmd_ls(int argc, char **argv, dcfs_cli *cli);
int cmd_logs(int argc, char **argv, dcfs_cli *cli);
int cmd_pull(int argc, char **argv, dcfs_cli *cli);
int cmd_push(int argc, char **argv, dcfs_cli *cli);
int cmd_snapshot(int argc, char **argv, dcfs_cli *cli);
int cmd_snapshots(int argc, char **argv, dcfs_cli *cli);
int cmd_prebuild(int argc, char **argv, dcfs_cli *cli);
int cmd_rebuild(int argc, char **argv, dcfs_cli *cli);

struct dcfs_diags;
/* A configuration's warnings on stderr, "dcfs: warning: FILE:LINE:COL: ...", one a line. */
void cli_print_warnings(const struct dcfs_diags *w);
/* For the commands that run a configuration (up, prebuild, rebuild), before they do: read it
 * as `up` will, refusing what `up` cannot run (-1, cli->err filled), print its warnings with
 * the unmet hostRequirements, and note in `notes` the editor extensions it records. */
int cli_check_up_config(dcfs_cli *cli, const char *folder, const char *config_file, FILE *notes);

struct dcfs_up_opts;
/* The options `up` and `rebuild` share, for their option tables, and their handling: true when
 * `c` was one of them. */
#define CLI_UP_OPTIONS                                                                             \
	{"json", no_argument, NULL, 'j'}, {"config", required_argument, NULL, 'c'},                \
		{"builder", required_argument, NULL, 'B'}, {"engine", required_argument, NULL, 'E'}
bool cli_up_option(int c, struct dcfs_up_opts *o, bool *json);
/* Tell the user about up's work (the report, the pull progress) on `notes`: `report` and `prog`
 * are the caller's and outlive `o`'s use. */
void cli_up_notes(struct dcfs_up_opts *o, FILE *notes, dcfs_report *report,
		  cli_pull_progress_state *prog);
/* Run up and print what it did (the ports and one summary line, or one JSON line): the exit
 * code. */
int cli_up_run(dcfs_cli *cli, dcfs_store *s, const struct dcfs_up_opts *o, bool json);

struct dcfs_layer_writer_stats;
struct dcfs_snapshot;
/* One line for a new snapshot: its name, what it holds and how much was new to the store. */
void cli_print_snapshot(const char *ref, const struct dcfs_layer_writer_stats *st);
/* The snapshot's configuration file, or what stands for it when it was pulled. */
const char *cli_snapshot_config(const struct dcfs_snapshot *sn);
/* "in use", "reclaimable" or "kept". */
const char *cli_snapshot_status(const struct dcfs_snapshot *sn);

struct option;
/* getopt_long for a command's options, without getopt's abbreviations: "--ful" is refused
 * ("did you mean --full?") rather than taken for --full. Returns what getopt_long returns, and
 * '?' after printing the problem. */
int cli_getopt(dcfs_cli *cli, int argc, char **argv, const char *shortopts, const struct option *opts);

/* The man page (roff) and the bash completion script, made from the command table. */
void cli_print_man(FILE *f, const dcfs_command *cmds, size_t n);
void cli_print_bash_completion(FILE *f, const dcfs_command *cmds, size_t n);

/* Print "usage: dcfs CMD ..." for the current command to stderr and return EXIT_USAGE. */
int cli_usage(dcfs_cli *cli, const char *problem, ...) __attribute__((format(printf, 2, 3)));

/* No argument after the command's options, then its store (cli_store): 0, or the exit code
 * (the usage printed, or 1 with cli->err filled). */
int cli_no_argument_store(dcfs_cli *cli, int argc, char **argv, dcfs_store **s);
/* A listing command (images, snapshots): `[--json] [-q|--quiet]` and no argument; it reads its
 * list from the store and prints it as JSON, one ref a line (-q) or a table. The list is an
 * array of the command's items, handled through these. */
typedef struct cli_listing {
	int (*read)(dcfs_store *s, void **list, size_t *n, dcfs_error *e);
	void (*free)(void *list, size_t n);
	void (*print_json)(const void *list, size_t n);
	void (*print_table)(const void *list, size_t n);
	size_t item_size, ref_offset; /* an item's size, and where its ref (a char *) stands */
} cli_listing;
/* Run a listing command: its exit code. */
int cli_list(dcfs_cli *cli, int argc, char **argv, const cli_listing *l);

/* The command's store, as cli->store_needs asks, opened on the first call (main's, closed by
 * main): 0, or -errno with cli->err filled. With DCFS_CMD_STORE_OPTIONAL, a store that cannot
 * be opened gives 0 and *out NULL. */
int cli_store(dcfs_cli *cli, dcfs_store **out);
/* Close the store before the command ends (before a long `runc exec`, or for a purge that
 * works on the store's folders itself); a later cli_store opens it again. */
void cli_store_close(dcfs_cli *cli);

/* Sizes: Docker's style on a terminal ("1.23GB", decimal units). */
void cli_human_size(uint64_t bytes, char out[16]);
/* Parse "123", "10k", "1.5GB", "2GiB" into bytes; false when malformed. */
bool cli_parse_size(const char *text, uint64_t *out);
/* "3 minutes ago" */
void cli_human_age(int64_t then, char out[32]);

/* A simple table printed with columns padded to their widest cell, three spaces apart. */
typedef struct cli_table {
	size_t ncols, nrows, cap;
	char **cells; /* nrows * ncols, owned */
} cli_table;
void cli_table_init(cli_table *t, size_t ncols);
/* Add a row: exactly `ncols` strings (copied). */
void cli_table_row(cli_table *t, ...);
void cli_table_print(cli_table *t, FILE *f);
void cli_table_free(cli_table *t);

/* du_features.c: dcfs du's feature layers, as a table and as the JSON "featureList". */
void du_features_print(const dcfs_feature_layer_info *f, size_t n, bool human);
void du_features_json(cJSON *o, const dcfs_feature_layer_info *f, size_t n);
