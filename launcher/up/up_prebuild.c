/* Which prebuild snapshot a new container starts from, or why none matched (see up.h), the
 * run-once markers a container made from one gets, and the prebuild's workspace changes, brought
 * into the new container's folder without overwriting its files (fs/layer/workspace_layer.h). A
 * prebuild's own container runs on a copy-on-write view of the folder (prebuild_workspace.h)
 * when the folder is in a git repository, whose HEAD tree is then part of the key. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "prebuild_git.h"
#include "prebuild_workspace.h"
#include "workspace_layer.h"
#include "up_internal.h"

/* Say which prebuild a new container starts from, or why none matched: a line of the notes,
 * added to res->prebuild_note. */
static int note(up_ctx *u, dcfs_up_result *res, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int note(up_ctx *u, dcfs_up_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *line = NULL;
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	char *all = NULL;
	if (res->prebuild_note && asprintf(&all, "%s\n%s", res->prebuild_note, line) < 0)
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	free(res->prebuild_note);
	res->prebuild_note = all ? all : TAKE_PTR(line);
	dcfs_report_note(u->o->report, "%s", all ? strrchr(all, '\n') + 1 : res->prebuild_note);
	return 0;
}

/* The key parts agree but the git trees differ (or one side has none). */
static int explain_tree(up_ctx *u, dcfs_up_result *res, const dcfs_snapshot *last)
{
	const char *now = u->key.workspace_tree, *then = last->workspace_tree;
	if (!*then)
		return note(u, res, "prebuild: not used: snapshot %s was made from a folder that was no "
			    "git repository; the checkout is at git tree %.12s (make one with 'dcfs "
			    "prebuild')", last->ref, now);
	if (!*now)
		return note(u, res, "prebuild: not used: snapshot %s was made from git tree %.12s; %s "
			    "is no git repository", last->ref, then, u->d.folder);
	return note(u, res, "prebuild: not used: the newest for this configuration (snapshot %s) was "
		    "made from git tree %.12s, the checkout is at %.12s (make one with 'dcfs "
		    "prebuild')", last->ref, then, now);
}

/* No prebuild has this key: compare with the configuration's newest one. */
static int explain_miss(up_ctx *u, dcfs_up_result *res)
{
	dcfs_snapshot last = {0};
	int r = dcfs_snapshot_find(u->s, NULL, u->d.config_file, &last, u->e);
	if (r == -ENOENT) /* another checkout's prebuild of the same configuration */
		r = dcfs_snapshot_find_config(u->s, u->key.config_hash, &last, u->e);
	if (r == -ENOENT)
		return note(u, res, "prebuild: none for %s (make one with 'dcfs prebuild')",
			    u->d.config_file);
	if (r < 0)
		return r;
	if (strcmp(last.config_hash, u->key.config_hash))
		r = note(u, res, "prebuild: not used: the configuration changed since snapshot %s",
			 last.ref);
	else if (strcmp(last.build_hash, u->key.build_hash))
		r = note(u, res, "prebuild: not used: the build (the Dockerfile, its context, args, "
			 "target or options) changed since snapshot %s", last.ref);
	else if (strcmp(last.base_digest, u->key.base_digest))
		r = note(u, res, "prebuild: not used: image %s is %.19s now, snapshot %s was made "
			 "from %.19s", u->image_ref, u->key.base_digest, last.ref, last.base_digest);
	else
		r = explain_tree(u, res, &last);
	dcfs_snapshot_free(&last);
	return r;
}

/* A new container (not a prebuild's) starts from the newest snapshot with its key. */
int up_choose_prebuild(up_ctx *u, dcfs_up_result *res)
{
	if (u->o->prebuild)
		return 0;
	if (u->o->no_prebuild)
		return 0; /* asked for: nothing to say */
	int r = dcfs_snapshot_find(u->s, u->key.key, NULL, &u->prebuild, u->e);
	if (r == -ENOENT)
		return explain_miss(u, res);
	if (r < 0)
		return r;
	free(u->ref);
	if (!(u->ref = strdup(u->prebuild.ref)))
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	r = note(u, res, "prebuild: starting from snapshot %s (key %.12s, taken after %s)",
		 u->prebuild.ref, u->key.key, u->prebuild.stage);
	if (r >= 0 && !u->key.workspace_tree[0])
		r = note(u, res, "prebuild: %s is no git repository: the prebuild has no workspace "
			 "changes (only git checkouts get them)", u->d.folder);
	return r;
}

/* The prebuild's workspace changes, into the folder; the checkout's own files are kept. */
static int bring_workspace(up_ctx *u, dcfs_up_result *res)
{
	dcfs_workspace_apply got;
	int r = dcfs_workspace_layer_apply(u->s, u->prebuild.workspace_layer, u->d.folder,
					   dcfs_git_file_clean, &got, u->e);
	if (r < 0)
		return r;
	return note(u, res, "prebuild: workspace changes brought into %s: %llu added, %llu updated "
		    "(committed files the prebuild changed), %llu skipped (the checkout's own "
		    "files and changes are kept)", u->d.folder, (unsigned long long)got.added,
		    (unsigned long long)got.updated, (unsigned long long)got.skipped);
}

/* A container made from a prebuild: onCreate and updateContent ran before the snapshot, and
 * what they wrote to the workspace is brought into the folder. A prebuild of a git checkout
 * whose workspace changes are not here (pulled from a registry: they do not travel yet) has them
 * run again. */
int up_mark_prebuilt(up_ctx *u, dcfs_up_result *res)
{
	static const char *const done[] = {"onCreateCommand", "updateContentCommand"};
	if (!u->prebuild.image_id)
		return 0;
	if (u->prebuild.workspace_tree[0] && !u->prebuild.workspace_layer)
		return note(u, res, "prebuild: snapshot %s came without its workspace changes: "
			    "onCreateCommand and updateContentCommand run again", u->prebuild.ref);
	int r = u->prebuild.workspace_layer ? bring_workspace(u, res) : 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(done); i++) {
		_cleanup_free_ char *marker = NULL;
		if (asprintf(&marker, "%s/%s", u->markers, done[i]) < 0)
			return dcfs_error_set(u->e, ENOMEM, "out of memory");
		_cleanup_close_ int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return dcfs_error_set(u->e, errno, "cannot create '%s': %m", marker);
	}
	return 0;
}

/* A prebuild of a git checkout runs on its copy-on-write view; anything else on the folder
 * (workspaceMount's bind source). A volume workspace has no view. */
int up_workspace_source(up_ctx *u, char **source)
{
	if (u->o->prebuild && u->key.workspace_tree[0] && !up_workspace_is_volume(u))
		return dcfs_prebuild_workspace_mount(u->s, u->c.id, u->ws.source, source, u->e);
	*source = strdup(u->ws.source);
	return *source ? 0 : dcfs_error_set(u->e, ENOMEM, "out of memory");
}
