/* `dcfs up` as a library call, shared by `up`, `prebuild` and `rebuild`: read the folder's
 * configuration, pull its image when the store lacks it, find or create its container (from the newest matching prebuild snapshot when
 * there is one), mount its root and workspace, start it on runc and run the lifecycle
 * commands. */
#pragma once

#include "pull.h"

#include <stdbool.h>
#include <stdio.h>

#include "devcontainer.h"
#include "error.h"
#include "prebuild_key.h"
#include "report.h"
#include "store.h"

typedef struct dcfs_up_opts {
	const char *folder;	 /* NULL: "." */
	const char *config_file; /* NULL: found in the folder */
	bool remove_existing;	 /* remove the folder's container first */
	bool no_prebuild;	 /* never start from a prebuild snapshot */
	bool no_pull;		 /* a missing image is an error rather than pulled (or built) */
	const char *builder;	 /* podman, buildah or docker; NULL: chosen (launcher/build) */
	/* runc, podman or docker (launcher/engine); NULL: customizations.dcfs.engine, else runc
	 * (a Compose configuration: the engine that answers) */
	const char *engine;
	bool pull_base;		 /* a build pulls its base images afresh (rebuild --full) */
	/* A prebuild's own container (not the folder's: it has an identity of its own, and an
	 * existing one is removed first): run onCreateCommand and updateContentCommand only. */
	bool prebuild;
	/* notes (which prebuild was used or why none matched, a pull of the image), the lifecycle
	 * commands' labels and warnings; NULL: none said */
	const dcfs_report *report;
	/* the progress of a pull `up` makes of a missing image (NULL: none shown) */
	dcfs_pull_progress_fn pull_progress;
	void *pull_opaque;
	/* a prebuild queued under this key: the configuration must still have it */
	const char *expect_key;
} dcfs_up_opts;

typedef struct dcfs_up_result {
	bool started; /* false: it was running already */
	char *id, *name, *user, *workspace_folder;
	char *ref;	 /* what the root is mounted from: the image or the prebuild snapshot */
	char *image_ref; /* the configuration's image */
	int64_t image_id;
	char *folder, *config_file;
	char *ports;		/* which forwarded ports listen, or NULL */
	char *prebuild;		/* the snapshot the container was created from, or NULL */
	char *prebuild_note;	/* which prebuild was used, or why none matched; or NULL */
	dcfs_prebuild_key key;
} dcfs_up_result;

int dcfs_up(dcfs_store *s, const dcfs_up_opts *o, dcfs_up_result *out, dcfs_error *e);
void dcfs_up_result_free(dcfs_up_result *r);

/* The store's image built for the Dockerfile configuration `d` as it is now (same build key):
 * 1 with *ref its name (malloc'd), 0 when none is stored or `d` builds nothing. */
int dcfs_up_built_image(dcfs_store *s, const dcfs_devcontainer *d, char **ref, dcfs_error *e);

/* The metadata entries of `d`'s features (resolved and fetched into the store when needed,
 * not installed), in install order: what their images' `devcontainer.metadata` label gets,
 * for read-configuration's merged configuration. *out is an array (empty without features). */
int dcfs_up_features_metadata(dcfs_store *s, const dcfs_devcontainer *d,
			      const dcfs_report *report, cJSON **out, dcfs_error *e);

/* What `up` would key a prebuild of this configuration by, without creating anything; also the
 * configuration file and the configuration's image (malloc'd, and
 * given also when the image is not in the store: -ENOENT then). */
int dcfs_up_key(dcfs_store *s, const dcfs_up_opts *o, dcfs_prebuild_key *key, char **config_file,
		char **image_ref, dcfs_error *e);
