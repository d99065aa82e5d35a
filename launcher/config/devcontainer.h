/* devcontainer.json: finding it, reading it (JSONC), the legacy properties, variable
 * substitution, and the workspace folder and mount, as the reference CLI's read-configuration
 * computes them. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "config_check.h"
#include "error.h"
#include "store.h"

typedef struct dcfs_devcontainer {
	char *folder;	   /* the workspace folder on the host, absolute */
	char *config_file; /* the devcontainer.json read, absolute */
	bool given;	   /* config_file came from the options, not a search of the folder */
	bool with_id;	   /* ${devcontainerId} substituted (see dcfs_devcontainer_opts) */
	/* The configuration after normalization and substitution, with "configFilePath" added as
	 * the reference prints it. */
	cJSON *config;
	/* {"workspaceFolder": ..., "workspaceMount": ...}; either may be missing (a Docker Compose
	 * configuration has no mount). */
	cJSON *workspace;
	/* What the file has that dcfs does not act on, misspelled names and unmet host
	 * requirements: one line each, "FILE:LINE:COL: ...", for the command to print. */
	dcfs_diags warnings;
} dcfs_devcontainer;

typedef struct dcfs_devcontainer_opts {
	const char *folder;	 /* NULL: "." */
	const char *config_file; /* --config; NULL: look in the folder */
	/* Mount the enclosing git repository's root rather than the folder (the reference CLI's
	 * --mount-workspace-git-root, on by default there). */
	bool mount_git_root;
	/* Substitute ${devcontainerId}: a container is being made for the configuration (`up`).
	 * Otherwise it is left as written, as the reference CLI's read-configuration leaves it. */
	bool with_id;
	/* A container is to run this configuration (up, prebuild, rebuild): what it cannot run
	 * (features, Dockerfile and Compose configurations) is an error, not a warning. */
	bool container;
	/* Check hostRequirements against this machine, the store being here (NULL: not checked). */
	const char *host_store;
} dcfs_devcontainer_opts;

/* Lexical absolute path (as Node's path.resolve: no symlinks followed). malloc'd. */
char *dcfs_host_path_absolute(const char *path);

/* Where the configuration of `folder` is: `.devcontainer/devcontainer.json`,
 * `.devcontainer.json`, or the one `.devcontainer/<sub>/devcontainer.json`. *out is malloc'd. */
int dcfs_devcontainer_find(const char *folder, char **out, dcfs_error *e);

/* Move the legacy top-level `extensions`, `settings` and `devPort` under
 * `customizations.vscode`, as the reference CLI does (`dockerFile` and `context` stay: the
 * reference reads them where they are). */
int dcfs_devcontainer_normalize(cJSON *config, dcfs_error *e);

/* Find, parse, check (launcher/config/config_check.h: errors fail, warnings are collected in
 * out->warnings), normalize and substitute; fills `out` (release with dcfs_devcontainer_free). */
int dcfs_devcontainer_read(const dcfs_devcontainer_opts *opts, dcfs_devcontainer *out,
			   dcfs_error *e);

/* The merged configuration the reference prints with --include-merged-configuration: the
 * configuration merged with `image_metadata` (the image's `devcontainer.metadata` label, an
 * array of objects; NULL when the image has none) per the spec's merge rules. *out is new. */
int dcfs_devcontainer_merge(const cJSON *config, const cJSON *image_metadata, cJSON **out,
			    dcfs_error *e);

/* Substitute in `json` as in the configuration of `d` (image metadata is substituted so). */
int dcfs_devcontainer_substitute(const dcfs_devcontainer *d, cJSON *json, dcfs_error *e);

/* The `devcontainer.metadata` label of image `image` (NULL: the configuration's "image") when the
 * store holds that image: its entries (an array of objects; one object counts as an array of
 * it), substituted like the configuration. *out is NULL when there is no image, no such image in
 * the store, no label, or a label that does not parse (the reference CLI ignores it then too). */
int dcfs_devcontainer_image_metadata(const dcfs_devcontainer *d, dcfs_store *s, const char *image,
				     cJSON **out, dcfs_error *e);
/* The same from an image config given as JSON text (an OCI config's "config" or an engine's
 * image inspect "Config"). */
int dcfs_devcontainer_config_metadata(const dcfs_devcontainer *d, const char *config_text,
				      cJSON **out, dcfs_error *e);

void dcfs_devcontainer_free(dcfs_devcontainer *d);
