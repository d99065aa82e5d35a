/* dcfs info: the build (dcfs, the libfuse it runs with, whether it has FUSE passthrough) and
 * every running dcfs mount with the data path its daemon negotiated with the kernel
 * (fs/mount/mount_state.h). `dcfs --version` prints the build part. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cleanup.h"
#include "cli.h"
#include "jsonc.h"
#include "config.h"
#include "mount.h"
#include "mount_state.h"

#ifdef DCFS_HAVE_PASSTHROUGH
#define WORKSPACE_PATH "FUSE passthrough where the kernel offers it, else the writeback cache"
#else
#define WORKSPACE_PATH "the writeback cache (no FUSE passthrough: libfuse < 3.17)"
#endif

#define URING_KNOB "/sys/module/fuse/parameters/enable_uring"

/* The kernel's FUSE-over-io_uring switch: 'Y', 'N', or '-' when the kernel has none. */
static char uring_knob(void)
{
	_cleanup_fclose_ FILE *f = fopen(URING_KNOB, "re");
	int c = f ? fgetc(f) : EOF;
	return c == 'Y' || c == 'N' ? (char)c : '-';
}

void cli_print_version(FILE *f)
{
	fprintf(f, "dcfs %s\nlibfuse %s (built against %d.%d)\nworkspace data path: %s\n", DCFS_VERSION,
		fuse_pkgversion(), FUSE_MAJOR_VERSION, FUSE_MINOR_VERSION, WORKSPACE_PATH);
	char knob = uring_knob();
	if (DCFS_FUSE_VERSION < 318)
		fprintf(f, "requests: /dev/fuse (FUSE over io_uring needs libfuse >= 3.18)\n");
	else if (knob == 'Y')
		fprintf(f, "requests: io_uring (the kernel's %s is Y)\n", URING_KNOB);
	else
		fprintf(f, "requests: /dev/fuse (%s: 'echo Y > %s' for io_uring)\n",
			knob == 'N' ? "the kernel's switch is off" : "the kernel has no FUSE over io_uring",
			URING_KNOB);
}

typedef struct info_mount {
	dcfs_mountinfo_line mi;
	dcfs_mount_state st;
	bool known;
} info_mount;

/* The running dcfs FUSE mounts (type fuse.dcfs) of this mount namespace, with their records. */
static size_t read_mounts(info_mount **out)
{
	*out = NULL;
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return 0;
	size_t n = 0, cap = 0;
	char *line = NULL;
	size_t lcap = 0;
	while (getline(&line, &lcap, f) > 0) {
		info_mount m = {0};
		if (!dcfs_mountinfo_parse(line, &m.mi) || strcmp(m.mi.fstype, "fuse.dcfs"))
			continue;
		m.known = dcfs_mount_state_read(m.mi.dev, &m.st);
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			info_mount *grown = realloc(*out, cap * sizeof(**out));
			if (!grown)
				break;
			*out = grown;
		}
		(*out)[n++] = m;
	}
	free(line);
	return n;
}

static void print_json(const info_mount *m, size_t n)
{
	struct utsname u;
	uname(&u);
	_cleanup_json_ cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "version", DCFS_VERSION);
	cJSON_AddStringToObject(o, "libfuse", fuse_pkgversion());
	char built[16];
	snprintf(built, sizeof(built), "%d.%d", FUSE_MAJOR_VERSION, FUSE_MINOR_VERSION);
	cJSON_AddStringToObject(o, "libfuseBuilt", built);
#ifdef DCFS_HAVE_PASSTHROUGH
	cJSON_AddBoolToObject(o, "passthrough", true);
#else
	cJSON_AddBoolToObject(o, "passthrough", false);
#endif
	cJSON_AddStringToObject(o, "kernel", u.release);
	char knob[2] = {uring_knob(), '\0'};
	cJSON_AddStringToObject(o, "ioUringSwitch", knob);
	cJSON *arr = cJSON_AddArrayToObject(o, "mounts");
	for (size_t i = 0; i < n; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "mountpoint", m[i].known ? m[i].st.mountpoint : m[i].mi.mountpoint);
		cJSON_AddStringToObject(x, "device", m[i].mi.dev);
		if (m[i].known) {
			cJSON_AddStringToObject(x, "view", m[i].st.view);
			cJSON_AddStringToObject(x, "mode", m[i].st.mode);
			cJSON_AddStringToObject(x, "features", m[i].st.features);
			cJSON_AddStringToObject(x, "libfuse", m[i].st.libfuse);
			cJSON_AddStringToObject(x, "protocol", m[i].st.protocol);
			cJSON_AddNumberToObject(x, "pid", m[i].st.pid);
		}
		cJSON_AddItemToArray(arr, x);
	}
	_cleanup_free_ char *s = cJSON_Print(o);
	if (s)
		puts(s);
}

static void print_table(const info_mount *m, size_t n)
{
	struct utsname u;
	uname(&u);
	cli_print_version(stdout);
	printf("kernel %s\n\n", u.release);
	if (!n) {
		printf("no dcfs mounts\n");
		return;
	}
	cli_table t;
	cli_table_init(&t, 7);
	cli_table_row(&t, "MOUNTPOINT", "VIEW", "MODE", "FEATURES", "LIBFUSE", "PROTOCOL", "PID");
	for (size_t i = 0; i < n; i++) {
		char pid[16];
		snprintf(pid, sizeof(pid), "%d", (int)m[i].st.pid);
		if (m[i].known)
			cli_table_row(&t, m[i].st.mountpoint, m[i].st.view, m[i].st.mode,
				      m[i].st.features, m[i].st.libfuse, m[i].st.protocol, pid);
		else /* mounted by a dcfs that wrote no record, or its daemon is gone */
			cli_table_row(&t, m[i].mi.mountpoint, "?", "unknown", "-", "-", "-", "-");
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

int cmd_info(int argc, char **argv, dcfs_cli *cli)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {0}};
	bool json = false;
	int c;
	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c != 'j')
			return cli_usage(cli, NULL);
		json = true;
	}
	if (optind != argc)
		return cli_usage(cli, "expected no arguments");
	_cleanup_free_ info_mount *m = NULL;
	size_t n = read_mounts(&m);
	if (json)
		print_json(m, n);
	else
		print_table(m, n);
	return 0;
}
