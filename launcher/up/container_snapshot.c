/* Snapshotting a container (see container_snapshot.h). */
#include "container_snapshot.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "prebuild_workspace.h"
#include "ref.h"
#include "snapshot.h"

int dcfs_container_save_key(dcfs_store *s, const char *id, const dcfs_prebuild_key *key,
			    dcfs_error *e)
{
	_cleanup_free_ char *path = dcfs_container_path(s, id, "key");
	if (!path)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_fclose_ FILE *f = fopen(path, "we");
	if (!f)
		return dcfs_error_set(e, errno, "cannot create '%s': %m", path);
	fprintf(f, "%s %s %s %s %s\n", key->key, key->config_hash, key->build_hash, key->base_digest,
		key->workspace_tree[0] ? key->workspace_tree : "-");
	if (fflush(f) != 0 || ferror(f))
		return dcfs_error_set(e, EIO, "cannot write '%s'", path);
	return 0;
}

static int load_key(dcfs_store *s, const char *id, dcfs_prebuild_key *key, dcfs_error *e)
{
	*key = (dcfs_prebuild_key){0};
	_cleanup_free_ char *path = dcfs_container_path(s, id, "key");
	if (!path)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return dcfs_error_set(e, errno, "cannot read '%s': %m (recreate the container with "
				      "'dcfs rebuild')", path);
	if (fscanf(f, "%64s %64s %64s %79s", key->key, key->config_hash, key->build_hash,
		   key->base_digest) != 4)
		return dcfs_error_set(e, EINVAL, "'%s' is not a prebuild key", path);
	/* the git tree: "-" for none, absent in keys saved before workspaces were keyed */
	if (fscanf(f, " %71s", key->workspace_tree) != 1 || !strcmp(key->workspace_tree, "-"))
		key->workspace_tree[0] = 0;
	return 0;
}

/* The last run-once command that ran, by its marker. */
static const char *last_stage(dcfs_store *s, const char *id)
{
	static const char *const stages[] = {"postCreateCommand", "updateContentCommand",
					     "onCreateCommand"};
	for (size_t i = 0; i < ELEMENTSOF(stages); i++) {
		_cleanup_free_ char *sub = NULL, *marker = NULL;
		if (asprintf(&sub, "markers/%s", stages[i]) < 0)
			return "created";
		marker = dcfs_container_path(s, id, sub);
		if (marker && access(marker, F_OK) == 0)
			return stages[i];
	}
	return "created";
}

/* dcfs-snapshots/<folder name, as a repository may be named>:<origin>-<UTC time>. */
static char *default_ref(const char *folder, const char *origin)
{
	const char *base = strrchr(folder, '/');
	_cleanup_free_ char *name = strdup(base && base[1] ? base + 1 : "root");
	if (!name)
		return NULL;
	for (char *p = name; *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	gmtime_r(&now.tv_sec, &tm);
	char when[32];
	strftime(when, sizeof(when), "%Y%m%d-%H%M%S", &tm);
	char *ref = NULL;
	if (asprintf(&ref, "dcfs-snapshots/%s:%s-%s.%03ld", name, origin, when,
		     now.tv_nsec / 1000000) < 0)
		return NULL;
	return ref;
}

/* A child that resumes the container should this process die while the container is frozen
 * (kill -9 during a long snapshot): it waits for the pipe to close; a byte first means the
 * container was resumed already. It ignores the terminal's signals, which reach the whole
 * process group. */
static pid_t guard(const dcfs_runc *runc, const char *id, int *told)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]), close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[1]);
		signal(SIGINT, SIG_IGN), signal(SIGTERM, SIG_IGN), signal(SIGHUP, SIG_IGN);
		char byte;
		ssize_t n;
		while ((n = read(p[0], &byte, 1)) < 0 && errno == EINTR)
			;
		if (n != 1) {
			dcfs_error e = {0};
			dcfs_runc_freeze(runc, id, false, &e);
		}
		_exit(0);
	}
	close(p[0]);
	*told = p[1];
	return pid;
}

static void release(pid_t guardian, int told, bool thawed)
{
	if (thawed)
		(void)!write(told, "", 1);
	close(told);
	while (waitpid(guardian, NULL, 0) < 0 && errno == EINTR)
		;
}

int dcfs_container_snapshot(dcfs_store *s, const dcfs_container *c,
			    const dcfs_container_snapshot_opts *o, char **ref,
			    dcfs_layer_writer_stats *stats, dcfs_error *e)
{
	*ref = NULL;
	if (!c->image)
		return dcfs_error_set(e, ENOENT, "the image of container '%s' is gone", c->name);
	dcfs_prebuild_key key;
	int r = load_key(s, c->id, &key, e);
	if (r < 0)
		return r;
	const char *folder = o->folder ? o->folder : c->folder ? c->folder : "";
	_cleanup_free_ char *name = NULL;
	if (o->tag) {
		/* a name a registry would take: `dcfs push` may send it to one */
		dcfs_ref parsed;
		if ((r = dcfs_ref_parse(o->tag, &parsed, e)) < 0)
			return r;
		name = dcfs_ref_name(&parsed);
		dcfs_ref_free(&parsed);
	} else {
		name = default_ref(folder, o->origin);
	}
	_cleanup_free_ char *upper = dcfs_container_path(s, c->id, "upper");
	/* a prebuild's changes to its copy-on-write workspace (prebuild_workspace.h) */
	_cleanup_free_ char *ws_upper = dcfs_container_path(s, c->id, DCFS_WORKSPACE_UPPER);
	if (!ws_upper)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	bool with_workspace = key.workspace_tree[0] && access(ws_upper, F_OK) == 0;
	_cleanup_free_ char *runc_root = dcfs_container_runc_root(s, e);
	if (!runc_root)
		return -EIO;
	if (!name || !upper)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	dcfs_snapshot_meta m = {
		.base_ref = c->image,
		.base_digest = key.base_digest,
		.folder = folder,
		.config_file = c->config_file,
		.key = key.key,
		.config_hash = key.config_hash,
		.build_hash = key.build_hash,
		.stage = o->stage ? o->stage : last_stage(s, c->id),
		.origin = o->origin,
		.workspace_tree = key.workspace_tree,
		.workspace_upper = with_workspace ? ws_upper : NULL,
	};
	dcfs_runc runc = {.root = runc_root, .name = c->name};
	_cleanup_free_ char *state = NULL;
	dcfs_runc_state(&runc, c->id, &state);
	bool frozen = state && !strcmp(state, "running");
	int told = -1;
	pid_t guardian = frozen ? guard(&runc, c->id, &told) : 0;
	if (guardian < 0)
		return dcfs_error_set(e, errno, "cannot fork: %m");
	if (frozen && (r = dcfs_runc_freeze(&runc, c->id, true, e)) < 0) {
		release(guardian, told, false);
		return r;
	}
	r = dcfs_snapshot_take(s, upper, c->image_id, name, &m, stats, e);
	dcfs_error ignored = {0};
	int thawed = frozen ? dcfs_runc_freeze(&runc, c->id, false, r < 0 ? &ignored : e) : 0;
	if (thawed < 0 && r >= 0) /* the snapshot is stored all the same: say so */
		r = dcfs_error_wrap(e, "snapshot %s is stored, but resuming container %s failed",
				    name, c->name);
	dcfs_error_clear(&ignored);
	if (frozen)
		release(guardian, told, thawed >= 0);
	if (r < 0)
		return r;
	*ref = TAKE_PTR(name);
	return 0;
}
