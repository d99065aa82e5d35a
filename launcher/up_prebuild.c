/* Which prebuild snapshot a new container starts from, or why none matched (see up.h), and the
 * run-once markers a container made from one gets. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "up_internal.h"

/* Say which prebuild a new container starts from, or why none matched. */
static int note(up *u, dcfs_up_result *res, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int note(up *u, dcfs_up_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&res->prebuild_note, fmt, ap);
	va_end(ap);
	if (n < 0) {
		res->prebuild_note = NULL;
		return dcfs_error_set(u->e, ENOMEM, "out of memory");
	}
	if (u->o->notes)
		fprintf(u->o->notes, "%s\n", res->prebuild_note);
	return 0;
}

/* No prebuild has this key: compare with the configuration's newest one. */
static int explain_miss(up *u, dcfs_up_result *res)
{
	dcfs_snapshot last = {0};
	int r = dcfs_snapshot_find(u->s, NULL, u->d.config_file, &last, u->e);
	if (r == -ENOENT)
		return note(u, res, "prebuild: none for %s (make one with 'dcfs prebuild')",
			    u->d.config_file);
	if (r < 0)
		return r;
	if (strcmp(last.config_hash, u->key.config_hash))
		r = note(u, res, "prebuild: not used: the configuration changed since snapshot %s",
			 last.ref);
	else if (strcmp(last.build_hash, u->key.build_hash))
		r = note(u, res, "prebuild: not used: the Dockerfile changed since snapshot %s",
			 last.ref);
	else
		r = note(u, res, "prebuild: not used: image %s is %.19s now, snapshot %s was made "
			 "from %.19s", u->image_ref, u->key.base_digest, last.ref, last.base_digest);
	dcfs_snapshot_free(&last);
	return r;
}

/* A new container (not a prebuild's) starts from the newest snapshot with its key. */
int up_choose_prebuild(up *u, dcfs_up_result *res)
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
	return note(u, res, "prebuild: starting from snapshot %s (key %.12s, taken after %s)",
		    u->prebuild.ref, u->key.key, u->prebuild.stage);
}

/* A container made from a prebuild: onCreate and updateContent ran before the snapshot. */
int up_mark_prebuilt(up *u)
{
	static const char *const done[] = {"onCreateCommand", "updateContentCommand"};
	for (size_t i = 0; u->prebuild.image_id && i < ELEMENTSOF(done); i++) {
		_cleanup_free_ char *marker = NULL;
		if (asprintf(&marker, "%s/%s", u->markers, done[i]) < 0)
			return dcfs_error_set(u->e, ENOMEM, "out of memory");
		_cleanup_close_ int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return dcfs_error_set(u->e, errno, "cannot create '%s': %m", marker);
	}
	return 0;
}
