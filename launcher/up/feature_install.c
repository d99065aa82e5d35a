/* One Dev Container Feature installed (see up_internal.h, up_feature_install):
 * in a staging folder of the store (STORE/tmp/<writer>/feature-XXXXXX/: upper,
 * work, rootfs, bundle, log), the image below it is mounted as a container root
 * with an empty upper directory; the feature's files are copied to
 * /tmp/dev-container-features/<id>_<n>/ (they stay in the layer, as the
 * reference CLI's build leaves them); its install.sh runs there as root with
 * `runc run` (Docker's default capabilities and seccomp filter, the host's
 * network, as a Dockerfile RUN has them), its output relayed as "[feature ID]
 * LINE"; then the root is unmounted and the upper directory becomes the
 * feature's layer (fs/layer/feature_layer.h). Whatever happens, the staging
 * folder goes and nothing is recorded unless install.sh succeeded. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "feature_layer.h"
#include "fsutil.h"
#include "mount.h"
#include "run_relayed.h"
#include "up_internal.h"

typedef struct staging {
	char *dir, *upper, *work, *rootfs, *bundle, *log, *runc_root;
	const char *id; /* the runc container's: the staging folder's name */
	bool mounted;
} staging;

static void staging_end(staging *st)
{
	if (st->runc_root) {
		char *argv[] = {"runc", "--root",	st->runc_root, "delete",
				"-f",	(char *)st->id, NULL};
		_cleanup_close_ int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (st->mounted)
			dcfs_spawn_wait(argv, devnull);
	}
	if (st->mounted) {
		_cleanup_error_ dcfs_error ignored = {0};
		dcfs_umount(st->rootfs, &ignored);
	}
	if (st->dir)
		dcfs_rm_rf(st->dir);
	free(st->dir), free(st->upper), free(st->work), free(st->rootfs), free(st->bundle);
	free(st->log), free(st->runc_root);
}

static char *sub(const char *dir, const char *name)
{
	char *p = NULL;
	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

static int staging_make(up_ctx *u, staging *st)
{
	dcfs_error *e = u->e;
	if (asprintf(&st->dir, "%s/feature-XXXXXX", u->s->tmp_path) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (!mkdtemp(st->dir)) {
		free(st->dir), st->dir = NULL;
		return dcfs_error_set(e, errno, "cannot make a staging folder in '%s': %m",
				      u->s->tmp_path);
	}
	st->id = strrchr(st->dir, '/') + 1;
	st->upper = sub(st->dir, "upper"), st->work = sub(st->dir, "work");
	st->rootfs = sub(st->dir, "rootfs"), st->bundle = sub(st->dir, "bundle");
	st->log = sub(st->dir, "log");
	if (!st->upper || !st->work || !st->rootfs || !st->bundle || !st->log)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	/* The upper folder is the layer's root folder: 0755 as an image's root is (the staging
	 * folder around it is mkdtemp's 0700, so no other user reaches any of them). */
	const char *dirs[] = {st->upper, st->work, st->rootfs, st->bundle};
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
		if (mkdir(dirs[i], 0755) < 0)
			return dcfs_error_set(e, errno, "cannot make '%s': %m", dirs[i]);
	st->runc_root = dcfs_container_runc_root(u->s, e);
	return st->runc_root ? 0 : -EIO;
}

/* The feature's files at /tmp/dev-container-features/<id>_<n>/ in the mounted
 * root, owned by root (the reference CLI's COPY --chown=root:root) with their
 * modes, links not followed; *where the path inside. */
static int copy_files(up_ctx *u, const up_feature_job *j, const staging *st, char **where)
{
	dcfs_error *e = u->e;
	_cleanup_free_ char *dest = NULL;
	if (asprintf(where, "/tmp/dev-container-features/%s_%zu", j->f->id, j->index) < 0 ||
	    asprintf(&dest, "%s%s", st->rootfs, *where) < 0)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	if (dcfs_mkdir_p(dest, 0755) < 0)
		return dcfs_error_set(e, errno, "cannot make '%s' in the feature's root: %m",
				      *where);
	_cleanup_free_ char *from = sub(j->f->folder, ".");
	char *argv[] = {"cp", "-R", "-P", "--preserve=mode,timestamps", "--", from, dest, NULL};
	_cleanup_close_ int log = open(st->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int status = from ? dcfs_spawn_wait(argv, log) : -ENOMEM;
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		_cleanup_free_ char *tail = dcfs_log_tail(st->log, 0);
		return dcfs_error_set(e, EIO,
				      "feature '%s': cannot copy its files into its root: %s",
				      j->f->src.written, tail ? tail : "");
	}
	return 0;
}

/* The bundle: install.sh as root in its folder, with Docker's defaults. */
static int write_bundle(up_ctx *u, const up_feature_job *j, const staging *st, const char *cwd)
{
	dcfs_error *e = u->e;
	_cleanup_json_ cJSON *args = cJSON_CreateArray();
	_cleanup_json_ cJSON *empty = cJSON_CreateObject();
	if (!args || !empty || !cJSON_AddItemToArray(args, cJSON_CreateString("/bin/sh")) ||
	    !cJSON_AddItemToArray(args, cJSON_CreateString("-c")) ||
	    !cJSON_AddItemToArray(args, cJSON_CreateString("chmod +x ./install.sh && "
							   "exec ./install.sh")))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_(dcfs_confinement_free) dcfs_confinement conf = {0};
	int r = dcfs_confinement_make(empty, NULL, j->f->src.written, &conf, e);
	if (r < 0)
		return r;
	dcfs_user root = {.name = "root", .home = "/root"};
	_cleanup_json_ cJSON *env = cJSON_Duplicate(j->env, true);
	if (!env)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	/* the users' homes as the image's /etc/passwd has them (a user a feature
	 * creates, such as common-utils' vscode, is not there yet: /home/NAME, as the
	 * reference CLI assumes) */
	const char *const who[][2] = {{"_REMOTE_USER_HOME", j->remote_user},
				      {"_CONTAINER_USER_HOME", j->container_user}};
	for (size_t i = 0; i < ELEMENTSOF(who); i++) {
		_cleanup_(dcfs_user_free) dcfs_user user = {0};
		_cleanup_free_ char *home = NULL;
		if (dcfs_user_resolve(st->rootfs, who[i][1], &user, NULL) >= 0 && user.name &&
		    strcmp(user.home, "/"))
			home = strdup(user.home);
		else if (!strcmp(who[i][1], "root") || !strcmp(who[i][1], "0"))
			home = strdup("/root");
		else if (asprintf(&home, "/home/%s", who[i][1]) < 0)
			home = NULL;
		if (!home || dcfs_env_set(env, who[i][0], home) < 0)
			return dcfs_error_set(e, ENOMEM, "out of memory");
	}
	dcfs_bundle b = {.rootfs = st->rootfs,
			 .args = args,
			 .env = env,
			 .user = &root,
			 .cwd = cwd,
			 .conf = &conf};
	return dcfs_bundle_write(&b, st->bundle, e);
}

/* install.sh's run: its exit code, its output relayed; a failure in one line.
 */
static int run_install(up_ctx *u, const up_feature_job *j, const staging *st)
{
	char *argv[] = {"runc",	    "--root",	st->runc_root,	"run",
			"--bundle", st->bundle, (char *)st->id, NULL};
	_cleanup_free_ char *prefix = NULL;
	if (asprintf(&prefix, "[feature %s] ", j->f->id) < 0)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	_cleanup_free_ dcfs_build_tail *tail = calloc(1, sizeof(*tail));
	if (!tail)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	int code = dcfs_run_relayed(argv, u->o->report, prefix, tail);
	if (code < 0)
		return dcfs_error_set(u->e, -code, "cannot run runc: %s (apt-get install runc)",
				      strerror(-code));
	if (code == 0)
		return 0;
	const char *last = tail->n ? dcfs_build_tail_line(tail, tail->n - 1) : "";
	for (size_t i = tail->n; i-- > 0 && !*last;)
		last = dcfs_build_tail_line(tail, i);
	return dcfs_error_set(u->e, EIO, "feature '%s': install.sh failed with exit status %d%s%s",
			      j->f->src.written, code, *last ? ": " : " (no output)", last);
}

int up_feature_install(up_ctx *u, const up_feature_job *j, int64_t *image_id)
{
	_cleanup_(staging_end) staging st = {0};
	int r = staging_make(u, &st);
	r = r ?: up_mount_root_at(u, j->base_ref, st.upper, st.work, st.rootfs, st.log);
	if (r < 0)
		return r;
	st.mounted = true;
	_cleanup_free_ char *cwd = NULL;
	r = copy_files(u, j, &st, &cwd);
	r = r ?: write_bundle(u, j, &st, cwd);
	r = r ?: run_install(u, j, &st);
	if (r < 0)
		return r;
	/* the upper directory is still until the root is unmounted */
	if ((r = dcfs_umount(st.rootfs, u->e)) < 0)
		return r;
	st.mounted = false;
	dcfs_layer_writer_stats stats;
	r = dcfs_feature_layer_take(u->s, st.upper, j->base_id, j->ref, j->config, j->meta,
				    image_id, &stats, u->e);
	if (r < 0)
		return dcfs_error_wrap(u->e, "feature '%s': keeping its layer", j->f->src.written);
	*j->stats = stats;
	return 0;
}
