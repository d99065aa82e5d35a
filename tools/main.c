/* dcfs: global options, the command table (with what each command needs: root, the store and
 * how), the store opened for the command, and the one place errors are printed. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "config.h"
#include "fsutil.h"

/* The store needs of the commands that run containers: they create it when missing (`up` is
 * the first command a newcomer runs) and take the writers' lock. */
#define CONTAINER_RUN (DCFS_CMD_ROOT | DCFS_CMD_STORE_WRITE | DCFS_CMD_STORE_CREATE)

static const dcfs_command commands[] = {
	{"import", cmd_import, "import [--json] SRC REF", "make an image from a directory or tarball",
	 DCFS_CMD_STORE_WRITE},
	{"pull", cmd_pull, "pull [--insecure] [--json] REF", "pull an image from an OCI registry",
	 DCFS_CMD_STORE_WRITE},
	{"push", cmd_push, "push [--insecure] [--compression zstd|gzip] SRC REF",
	 "push an image of the store to an OCI registry", DCFS_CMD_STORE_WRITE},
	{"images", cmd_images, "images [--json] [-q]", "list images", DCFS_CMD_STORE_READ},
	{"rmi", cmd_rmi, "rmi REF...", "remove images and reclaim what only they used",
	 DCFS_CMD_STORE_EXCLUSIVE},
	{"du", cmd_du, "du [-v] [--json]", "show disk usage from the catalog's sums", DCFS_CMD_STORE_READ},
	{"prune", cmd_prune, "prune [--max-size SIZE [--yes]] [--json]", "reclaim unreferenced data",
	 DCFS_CMD_STORE_EXCLUSIVE},
	/* --repair: DCFS_CMD_STORE_EXCLUSIVE */
	{"fsck", cmd_fsck, "fsck [--repair]", "verify chunks, references and sums", DCFS_CMD_STORE_READ},
	{"mount", cmd_mount, "mount [-f] --image REF [--upper DIR [--work DIR]] MNT",
	 "serve an image's root (under an overlay with --upper)", DCFS_CMD_STORE_READ},
	/* the workspace's sums live in the store's catalog: there must be one */
	{"mount", cmd_mount, "mount [-f] --workspace HOSTDIR MNT", "serve a host folder as a workspace",
	 DCFS_CMD_STORE_READ | DCFS_CMD_STORE_CREATE},
	{"umount", cmd_umount, "umount MNT", "end a dcfs mount, or clear a stale one", 0},
	{"info", cmd_info, "info [--json]",
	 "show the build and each running dcfs mount's data path (passthrough, writeback, ...)", 0},
	/* the store only adds the image's and the features' metadata
	 * (--include-merged-configuration); features are fetched into it */
	{"read-configuration", cmd_read_configuration,
	 "read-configuration [--config FILE] [--include-merged-configuration] [FOLDER]",
	 "print a folder's devcontainer.json, normalized and substituted",
	 DCFS_CMD_STORE_WRITE | DCFS_CMD_STORE_OPTIONAL},
	{"up", cmd_up,
	 "up [--json] [--remove-existing-container] [--no-prebuild] [--builder NAME] [--engine NAME] [--config FILE] "
	 "[FOLDER]",
	 "create and start a folder's dev container (from its newest prebuild when one matches)",
	 CONTAINER_RUN},
	{"prebuild", cmd_prebuild, "prebuild [--keep N] [--builder NAME] [--config FILE] [FOLDER]",
	 "snapshot a fresh container after onCreate and updateContent, for later `up`s", CONTAINER_RUN},
	{"rebuild", cmd_rebuild, "rebuild [--full [--yes]] [--json] [--builder NAME] [--engine NAME] [--config FILE] [FOLDER]",
	 "recreate a dev container (--full: purge the cache first); the workspace stays", CONTAINER_RUN},
	{"snapshot", cmd_snapshot, "snapshot [--tag NAME] [--config FILE] [FOLDER]",
	 "store a dev container's changes as a snapshot", DCFS_CMD_ROOT | DCFS_CMD_STORE_WRITE},
	{"snapshots", cmd_snapshots, "snapshots [--json] [-q]", "list snapshots per configuration",
	 DCFS_CMD_STORE_READ},
	{"exec", cmd_exec, "exec [--config FILE] [FOLDER] [-- CMD...]",
	 "run a command (or a shell) in a dev container", DCFS_CMD_ROOT | DCFS_CMD_STORE_READ},
	{"ls", cmd_ls, "ls [--json]", "list dev containers", DCFS_CMD_STORE_READ},
	{"logs", cmd_logs, "logs [--config FILE] [FOLDER]", "show a dev container's lifecycle output and log",
	 DCFS_CMD_STORE_READ},
	{"down", cmd_down, "down [-f] [--config FILE] [FOLDER]", "stop a dev container and unmount it",
	 DCFS_CMD_ROOT | DCFS_CMD_STORE_WRITE},
	{"rm", cmd_rm, "rm [-f] [--config FILE] [FOLDER]", "remove a dev container (never the workspace folder)",
	 DCFS_CMD_ROOT | DCFS_CMD_STORE_WRITE},
};

static void help(FILE *f)
{
	fprintf(f, "usage: dcfs [--store DIR] COMMAND [ARGS]\n\n"
		   "A dev-container filesystem and launcher.\n\nCommands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
		if (strlen(commands[i].usage) <= 34)
			fprintf(f, "  %-34s %s\n", commands[i].usage, commands[i].summary);
		else
			fprintf(f, "  %s\n  %-34s %s\n", commands[i].usage, "", commands[i].summary);
	}
	fprintf(f, "\nThe store is --store DIR, else $DCFS_STORE, else %s.\n"
		   "'dcfs help COMMAND' or 'dcfs COMMAND --help' shows one command; 'dcfs help --man'\n"
		   "prints the man page, 'dcfs completion bash' a bash completion script.\n",
		DCFS_DEFAULT_STORE);
}

/* `dcfs help CMD`, `dcfs CMD --help`: every usage line of the command and what it does. */
static int command_help(const char *name)
{
	bool found = false;
	for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
		if (strcmp(commands[i].name, name))
			continue;
		printf("%sdcfs %s\n    %s%s\n", found ? "" : "usage: ", commands[i].usage, commands[i].summary,
		       commands[i].needs & DCFS_CMD_ROOT ? " (as root)" : "");
		found = true;
	}
	if (!found) {
		fprintf(stderr, "dcfs: unknown command '%s' (see 'dcfs --help')\n", name);
		return EXIT_USAGE;
	}
	printf("\nGlobal option: --store DIR (else $DCFS_STORE, else %s).\n", DCFS_DEFAULT_STORE);
	return 0;
}

/* Whether ARGV (a command's arguments) asks for help before any "--". */
static bool asks_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

/* getopt_long takes any unambiguous prefix of a long option; a mistyped destructive flag
 * (--ful) must not run as --full. After getopt_long matched long option IDX, check that it
 * was spelled out. The option's text is the last argument taken, or the one before it when
 * the last was the option's value. */
static const char *abbreviated(char **argv, const struct option *opts, int idx)
{
	const char *t = argv[optind - 1];
	bool inline_value = !strncmp(t, "--", 2) && strchr(t, '=');
	if (opts[idx].has_arg == required_argument && !inline_value && optind >= 2)
		t = argv[optind - 2]; /* "--config FILE": FILE was taken too */
	size_t len = strcspn(t + 2, "=");
	if (len == strlen(opts[idx].name) && !strncmp(t + 2, opts[idx].name, len))
		return NULL;
	return t;
}

int cli_getopt(dcfs_cli *cli, int argc, char **argv, const char *shortopts, const struct option *opts)
{
	int idx = -1;
	int c = getopt_long(argc, argv, shortopts, opts, &idx);
	const char *typed = c != -1 && c != '?' && idx >= 0 ? abbreviated(argv, opts, idx) : NULL;
	if (!typed)
		return c;
	fprintf(stderr, "dcfs: %s: unrecognized option '%.*s' (did you mean '--%s'?)\n", cli->command,
		(int)strcspn(typed, "="), typed, opts[idx].name);
	return '?';
}

static const dcfs_command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* Errors are one line: control characters in names (a tar entry may hold a newline) are shown
 * as C escapes. */
static void print_escaped(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

int cli_usage(dcfs_cli *cli, const char *problem, ...)
{
	if (problem) {
		va_list ap;
		va_start(ap, problem);
		fprintf(stderr, "dcfs: %s: ", cli->command);
		vfprintf(stderr, problem, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	const dcfs_command *c = find_command(cli->command);
	fprintf(stderr, "usage: dcfs %s\n", c ? c->usage : cli->command);
	return EXIT_USAGE;
}

static dcfs_store_mode store_mode(unsigned needs)
{
	if (needs & DCFS_CMD_STORE_EXCLUSIVE)
		return DCFS_STORE_EXCLUSIVE;
	return needs & DCFS_CMD_STORE_WRITE ? DCFS_STORE_WRITE : DCFS_STORE_READ;
}

static int open_store(dcfs_cli *cli)
{
	int r = (cli->store_needs & DCFS_CMD_STORE_CREATE) ? dcfs_mkdir_p(cli->store_path, 0700) : 0;
	if (r < 0)
		return dcfs_error_set(&cli->err, r, "cannot create store '%s': %s", cli->store_path,
				      strerror(-r));
	return dcfs_store_open(cli->store_path, store_mode(cli->store_needs), &cli->store, &cli->err);
}

int cli_store(dcfs_cli *cli, dcfs_store **out)
{
	int r = cli->store ? 0 : open_store(cli);
	if (r < 0 && (cli->store_needs & DCFS_CMD_STORE_OPTIONAL)) {
		dcfs_error_clear(&cli->err);
		r = 0;
	}
	*out = cli->store;
	return r;
}

void cli_store_close(dcfs_cli *cli)
{
	dcfs_store_close(TAKE_PTR(cli->store));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"store", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	const char *store = NULL;
	int c, idx = -1;
	while ((c = getopt_long(argc, argv, "+h", opts, &idx)) != -1) {
		const char *typed = c != '?' && idx >= 0 ? abbreviated(argv, opts, idx) : NULL;
		if (typed) {
			fprintf(stderr, "dcfs: unrecognized option '%.*s' (did you mean '--%s'?)\n",
				(int)strcspn(typed, "="), typed, opts[idx].name);
			return EXIT_USAGE;
		}
		idx = -1;
		switch (c) {
		case 's':
			store = optarg;
			break;
		case 'h':
			help(stdout);
			return 0;
		case 'V':
			cli_print_version(stdout);
			return 0;
		default:
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		help(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[optind];
	if (!strcmp(name, "help")) {
		if (optind + 1 < argc && !strcmp(argv[optind + 1], "--man")) {
			cli_print_man(stdout, commands, ELEMENTSOF(commands));
			return 0;
		}
		if (optind + 1 < argc)
			return command_help(argv[optind + 1]);
		help(stdout);
		return 0;
	}
	if (!strcmp(name, "completion")) {
		if (optind + 2 != argc || strcmp(argv[optind + 1], "bash")) {
			fprintf(stderr, "usage: dcfs completion bash\n");
			return EXIT_USAGE;
		}
		cli_print_bash_completion(stdout, commands, ELEMENTSOF(commands));
		return 0;
	}
	const dcfs_command *cmd = find_command(name);
	if (!cmd) {
		fprintf(stderr, "dcfs: unknown command '%s' (see 'dcfs --help')\n", name);
		return EXIT_USAGE;
	}
	if (asks_help(argc - optind, argv + optind))
		return command_help(name);
	if ((cmd->needs & DCFS_CMD_ROOT) && geteuid() != 0) {
		fprintf(stderr, "dcfs: %s: needs root: it runs containers with runc and mounts their "
				"filesystems (rootless use is not supported yet; try sudo)\n", name);
		return 1;
	}
	dcfs_cli cli = {.store_path = dcfs_store_default_path(store), .command = name,
			.store_needs = cmd->needs & ~DCFS_CMD_ROOT};
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 1; /* each command parses its own options */
	int rc = cmd->fn(sub_argc, sub_argv, &cli);
	cli_store_close(&cli);
	if (rc != 0 && cli.err.code) {
		fprintf(stderr, "dcfs: %s: ", name);
		print_escaped(stderr, cli.err.msg ? cli.err.msg : strerror(cli.err.code));
		fputc('\n', stderr);
		if (rc == 0)
			rc = 1;
	}
	dcfs_error_clear(&cli.err);
	fflush(stdout);
	if (ferror(stdout)) {
		fprintf(stderr, "dcfs: %s: cannot write output\n", name);
		return 1;
	}
	return rc;
}
