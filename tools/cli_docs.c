/* The man page and the bash completion, both made from the command table (see cli.h), so that
 * neither can fall behind the commands: `dcfs help --man`, `dcfs completion bash`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"

/* Print `text` for roff: a leading '.' or '\'' and every backslash escaped, '-' as "\-". */
static void roff(FILE *f, const char *text)
{
	for (const char *p = text; *p; p++) {
		if ((p == text || p[-1] == '\n') && (*p == '.' || *p == '\''))
			fputs("\\&", f);
		if (*p == '\\')
			fputs("\\e", f);
		else if (*p == '-')
			fputs("\\-", f);
		else
			fputc(*p, f);
	}
}

void cli_print_man(FILE *f, const dcfs_command *cmds, size_t n)
{
	fprintf(f, ".TH DCFS 1 \"\" \"dcfs %s\" \"User Commands\"\n", DCFS_VERSION);
	fputs(".SH NAME\ndcfs \\- a dev\\-container filesystem and launcher\n", f);
	fputs(".SH SYNOPSIS\n.B dcfs\n[\\-\\-store DIR] COMMAND [ARGS]\n", f);
	fputs(".SH DESCRIPTION\n", f);
	roff(f, "dcfs up starts the dev container that a folder's devcontainer.json describes, on runc, "
		"with a root filesystem served from a content-addressed store of deduplicated, "
		"compressed chunks and the workspace passed through from the host.\n");
	fputs(".SH OPTIONS\n.TP\n.B \\-\\-store DIR\n", f);
	roff(f, "The store: else $DCFS_STORE, else " DCFS_DEFAULT_STORE ".\n");
	fputs(".TP\n.B \\-\\-help\nThe commands. `dcfs help COMMAND` or `dcfs COMMAND \\-\\-help` shows one.\n", f);
	fputs(".TP\n.B \\-\\-version\nThe version.\n", f);
	fputs(".SH COMMANDS\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs(".TP\n.B dcfs ", f);
		roff(f, cmds[i].usage);
		fputc('\n', f);
		roff(f, cmds[i].summary);
		fputs(cmds[i].needs & DCFS_CMD_ROOT ? " (as root)\n" : "\n", f);
	}
	fputs(".SH EXIT STATUS\n0 on success, 1 on failure, 2 for a usage error; "
	      "\\fBdcfs exec\\fR exits with its command's status (127: not found).\n", f);
	fputs(".SH FILES\n", f);
	roff(f, DCFS_DEFAULT_STORE " (the default store), /run/dcfs (mount points of workspace views)\n");
}

/* The long options named in a usage line ("--json", "--config"), space separated. */
static void usage_options(FILE *f, const char *usage)
{
	for (const char *p = strstr(usage, "--"); p; p = strstr(p + 2, "--")) {
		size_t len = 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
		if (len > 2)
			fprintf(f, " %.*s", (int)len, p);
	}
	for (const char *p = usage; (p = strstr(p, "[-")); p++)
		if (p[2] != '-' && p[2])
			fprintf(f, " -%c", p[2]);
}

void cli_print_bash_completion(FILE *f, const dcfs_command *cmds, size_t n)
{
	fputs("# bash completion for dcfs, made by `dcfs completion bash` from its command table\n"
	      "_dcfs() {\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} cmd= i\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tcase ${COMP_WORDS[i]} in\n"
	      "\t\t--store) ((i++)) ;;\n"
	      "\t\t-*) ;;\n"
	      "\t\t*) cmd=${COMP_WORDS[i]}; break ;;\n"
	      "\t\tesac\n"
	      "\tdone\n"
	      "\tlocal opts=\n"
	      "\tcase $cmd in\n"
	      "\t'') COMPREPLY=($(compgen -W '--store --help --version help completion",
	      f);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(cmds[i].name, cmds[i - 1].name))
			fprintf(f, " %s", cmds[i].name);
	fputs("' -- \"$cur\")); return ;;\n", f);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && !strcmp(cmds[i].name, cmds[i - 1].name))
			continue;
		fprintf(f, "\t%s) opts='--help", cmds[i].name);
		for (size_t j = i; j < n && !strcmp(cmds[j].name, cmds[i].name); j++)
			usage_options(f, cmds[j].usage);
		fputs("' ;;\n", f);
	}
	fputs("\tesac\n"
	      "\tif [[ $cur == -* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	      "\telse\n"
	      "\t\tCOMPREPLY=($(compgen -d -- \"$cur\"))\n"
	      "\tfi\n"
	      "}\n"
	      "complete -F _dcfs dcfs\n",
	      f);
}
