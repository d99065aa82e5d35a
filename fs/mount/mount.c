/* The FUSE daemon shared by every view (see mount.h): stale-mount recovery, session setup,
 * detaching once the mount is ready, the multithreaded loop, and unmounting. */
#include "mount.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "killpriv_io.h"
#include "mount_state.h"

bool dcfs_mount_is_stale(const char *path)
{
	/* statfs always reaches the daemon (stat may be answered from the attribute cache); a
	 * request in flight when it died fails with ECONNABORTED instead of ENOTCONN */
	struct statfs sf;
	return statfs(path, &sf) < 0 && (errno == ENOTCONN || errno == ECONNABORTED);
}

/* The lowerdir= option of the overlay mounted at `path`, from /proc/self/mountinfo. */
static char *overlay_lower(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return NULL;
	char *line = NULL, *found = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char mnt[4096];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || strcmp(mnt, path) != 0)
			continue;
		char *sep = strstr(line, " - overlay ");
		char *lower = sep ? strstr(sep, "lowerdir=") : NULL;
		free(found);
		found = NULL;
		if (lower) {
			lower += strlen("lowerdir=");
			found = strndup(lower, strcspn(lower, ",: \n"));
		}
	}
	free(line);
	return found;
}

int dcfs_umount(const char *path, dcfs_error *e)
{
	_cleanup_free_ char *real = realpath(path, NULL);
	const char *mnt = real ? real : path;
	_cleanup_free_ char *lower = overlay_lower(mnt);
	int flags = dcfs_mount_is_stale(mnt) ? MNT_DETACH : 0;
	if (umount2(mnt, flags) < 0) {
		if (errno == EBUSY && umount2(mnt, MNT_DETACH) == 0)
			goto lower;
		return dcfs_error_set(e, errno, "cannot unmount '%s': %m", path);
	}
lower:
	if (lower && strstr(lower, "/mnt/")) {
		/* the hidden FUSE view below a dcfs overlay */
		if (umount2(lower, dcfs_mount_is_stale(lower) ? MNT_DETACH : 0) < 0 &&
		    umount2(lower, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
			return dcfs_error_set(e, errno, "cannot unmount '%s': %m", lower);
		rmdir(lower);
	}
	return 0;
}

static int build_args(struct fuse_args *args, const dcfs_mount_opts *o)
{
	char opts[1024];
	snprintf(opts, sizeof(opts), "fsname=%s,subtype=%s%s%s%s", o->fsname ? o->fsname : "dcfs",
		 o->subtype ? o->subtype : "dcfs", o->read_only ? ",ro" : "",
		 o->allow_other ? ",allow_other" : "", o->default_permissions ? ",default_permissions" : "");
	if (fuse_opt_add_arg(args, "dcfs") < 0 || fuse_opt_add_arg(args, "-o") < 0 ||
	    fuse_opt_add_arg(args, opts) < 0)
		return -ENOMEM;
	if (o->debug && fuse_opt_add_arg(args, "-d") < 0)
		return -ENOMEM;
#if DCFS_FUSE_VERSION >= 318
	/* FUSE over io_uring: requests go through a ring per CPU, served by a thread on that
	 * CPU, instead of waking a reader of /dev/fuse on another one. libfuse uses it when the
	 * kernel offers it (fuse.enable_uring=Y) and reads /dev/fuse otherwise. */
	if (fuse_opt_add_arg(args, "-o") < 0 || fuse_opt_add_arg(args, "io_uring") < 0)
		return -ENOMEM;
#endif
	return 0;
}

/* Fork; the parent waits until the child reports that it is serving, then exits with the
 * child's verdict. Returns in the child with *report_fd set. */
static int detach(int *report_fd, dcfs_error *e)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return dcfs_error_set(e, errno, "pipe: %m");
	pid_t pid = fork();
	if (pid < 0)
		return dcfs_error_set(e, errno, "fork: %m");
	if (pid > 0) {
		close(p[1]);
		char verdict = 1;
		if (read(p[0], &verdict, 1) != 1)
			verdict = 1;
		_exit(verdict);
	}
	close(p[0]);
	*report_fd = p[1];
	setsid();
	return 0;
}

static void report(int fd, char verdict)
{
	if (fd < 0)
		return;
	if (write(fd, &verdict, 1) < 0) {
		/* the parent is gone: nothing to tell */
	}
	close(fd);
}

static void quiet_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	/* all three: a caller that reads our output (a pipe) must see it end when we detach */
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

DEFINE_TRIVIAL_CLEANUP(struct fuse_session *, fuse_session_destroy)

/* The `ready` hook may need the file system to answer (overlayfs looks up its lower directory
 * while mounting), so it runs on its own thread once the loop serves; it then reports to the
 * waiting parent, or ends the loop on failure. */
typedef struct ready_ctx {
	const dcfs_mount_opts *o;
	struct fuse_session *se;
	int report_fd;
	int result;
	dcfs_error err;
} ready_ctx;

static void *ready_thread(void *arg)
{
	ready_ctx *rc = arg;
	rc->result = rc->o->ready(rc->se, rc->o->hook_data, &rc->err);
	if (rc->result < 0) {
		fuse_session_exit(rc->se);
		/* wake the loop out of its read of /dev/fuse */
		fuse_session_unmount(rc->se);
		report(rc->report_fd, 1);
		return NULL;
	}
	if (!rc->o->foreground)
		quiet_stdio();
	report(rc->report_fd, 0);
	return NULL;
}

int dcfs_mount_serve(const struct fuse_lowlevel_ops *ops, void *userdata, const dcfs_mount_opts *o,
		     dcfs_error *e)
{
	if (dcfs_mount_is_stale(o->mountpoint) && umount2(o->mountpoint, MNT_DETACH) < 0)
		return dcfs_error_set(e, errno, "cannot clear the stale mount at '%s': %m", o->mountpoint);
	struct stat st;
	if (stat(o->mountpoint, &st) < 0 || !S_ISDIR(st.st_mode))
		return dcfs_error_set(e, errno ? errno : ENOTDIR, "mount point '%s' is not a directory",
				      o->mountpoint);

	int report_fd = -1;
	int r = 0;
	if (!o->foreground) {
		/* Detach first: libfuse's worker threads must be created in the process that
		 * serves. The parent waits for the verdict. */
		r = detach(&report_fd, e);
		if (r < 0)
			return r;
	}
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	if (build_args(&args, o) < 0) {
		report(report_fd, 1);
		return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	_cleanup_(fuse_session_destroyp) struct fuse_session *se =
		fuse_session_new(&args, ops, sizeof(*ops), userdata);
	fuse_opt_free_args(&args);
	if (!se) {
		report(report_fd, 1);
		return dcfs_error_set(e, EIO, "cannot create the FUSE session for '%s'", o->mountpoint);
	}
	if (fuse_set_signal_handlers(se) < 0) {
		report(report_fd, 1);
		return dcfs_error_set(e, EIO, "cannot set signal handlers");
	}
	if (fuse_session_mount(se, o->mountpoint) < 0) {
		fuse_remove_signal_handlers(se);
		report(report_fd, 1);
		return dcfs_error_set(e, EIO, "cannot mount FUSE at '%s' (is /dev/fuse there?)", o->mountpoint);
	}
	dcfs_mount_state_begin(o->mountpoint);
	if (o->killpriv_v2 && (r = dcfs_killpriv_io_install(se)) < 0) {
		fuse_session_unmount(se);
		fuse_remove_signal_handlers(se);
		report(report_fd, 1);
		return dcfs_error_set(e, -r, "cannot set up the FUSE session's I/O for '%s'",
				      o->mountpoint);
	}
	if (o->prepare && (r = o->prepare(se, o->hook_data, e)) < 0) {
		fuse_session_unmount(se);
		fuse_remove_signal_handlers(se);
		report(report_fd, 1);
		return r;
	}
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	if (cfg) {
		fuse_loop_cfg_set_clone_fd(cfg, 1);
		if (o->max_threads)
			fuse_loop_cfg_set_max_threads(cfg, o->max_threads);
	}
	ready_ctx rc = {.o = o, .se = se, .report_fd = report_fd};
	pthread_t ready_tid;
	bool have_ready = false;
	if (o->ready) {
		if (pthread_create(&ready_tid, NULL, ready_thread, &rc) != 0) {
			fuse_loop_cfg_destroy(cfg);
			fuse_session_unmount(se);
			fuse_remove_signal_handlers(se);
			report(report_fd, 1);
			return dcfs_error_set(e, EAGAIN, "cannot start a thread");
		}
		have_ready = true;
	} else {
		if (!o->foreground)
			quiet_stdio();
		report(report_fd, 0);
	}
	r = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	dcfs_mount_state_end();
	if (have_ready) {
		pthread_join(ready_tid, NULL);
		if (rc.result < 0) {
			fuse_remove_signal_handlers(se);
			if (e) {
				dcfs_error_clear(e);
				*e = rc.err;
			} else {
				dcfs_error_clear(&rc.err);
			}
			return rc.result;
		}
	}
	if (o->stopping)
		o->stopping(se, o->hook_data);
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	if (r < 0)
		return dcfs_error_set(e, -r, "serving '%s': %s", o->mountpoint, strerror(-r));
	return 0;
}
