/* Dev Container Features (containers.dev/implementors/features): a configuration's `features`
 * resolved -- where each comes from (an OCI artifact, a folder beside devcontainer.json, a
 * tarball URL, a legacy short name), its files fetched once into the store, its
 * devcontainer-feature.json read, its options checked and turned into install.sh's environment,
 * the features its dependsOn adds -- and put in the order the spec installs them in.
 * Installing them (one container per feature over the layers below it, its changes kept as a
 * layer found by key) is launcher/up's (up_features.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "cleanup.h"
#include "error.h"
#include "report.h"
#include "store.h"

typedef enum dcfs_feature_kind {
	DCFS_FEATURE_OCI,     /* "ghcr.io/devcontainers/features/node:1", "...@sha256:..." */
	DCFS_FEATURE_LOCAL,   /* "./my-feature": a folder under the configuration's folder */
	DCFS_FEATURE_TARBALL, /* "https://host/path/devcontainer-feature-x.tgz" */
} dcfs_feature_kind;

/* Where a feature comes from, as a key of `features` (or of a dependsOn) says. */
typedef struct dcfs_feature_source {
	dcfs_feature_kind kind;
	char *written;  /* the key as written */
	char *location; /* what is fetched: OCI the full reference ("registry/path:tag" or
			 * "registry/path@sha256:..."; a legacy short name mapped to it), LOCAL the
			 * absolute folder, TARBALL the URL */
	char *resource; /* the feature without its version, for matching dependsOn, installsAfter
			 * and overrideFeatureInstallOrder: OCI "registry/path", LOCAL the absolute
			 * folder, TARBALL the URL */
} dcfs_feature_source;

/* Parse a `features` key. Local features ("./x", "../x": relative to `config_dir`, the folder
 * of devcontainer.json, and inside it, as the spec requires) must exist; legacy short names
 * ("node", "common" ...: no '/', no ':') map as the reference CLI maps them. A form that is
 * none of these is -EINVAL naming the key. */
int dcfs_feature_source_parse(const char *key, const char *config_dir, dcfs_feature_source *out,
			      dcfs_error *e);
void dcfs_feature_source_free(dcfs_feature_source *s);

/* The feature's files: a folder holding devcontainer-feature.json and install.sh, and the
 * digest ("sha256:HEX") of its content, which keys the layers it makes. OCI: the artifact's
 * layer (media type application/vnd.devcontainers.layer.v1+tar), whose digest it is, unpacked
 * once into STORE/features/<HEX>/; TARBALL: the URL's bytes (their digest), unpacked the same
 * way; LOCAL: the folder where it is, its digest a walk of its names, modes and contents. A
 * reference whose registry cannot be reached uses the digest the store last fetched for it,
 * with a warning through `report`; none: the error naming the reference. `insecure`: plain
 * HTTP to a registry that is not loopback. Concurrent fetches of one feature are safe (one
 * unpacks into a temporary folder and renames it into place). */
int dcfs_feature_fetch(dcfs_store *s, const dcfs_feature_source *src, bool insecure,
		       dcfs_report *report, char **folder, char **digest, dcfs_error *e);

/* FOLDER/devcontainer-feature.json (JSONC): an object with string `id` and `version` at least;
 * errors name the file, line and column. */
int dcfs_feature_read(const char *folder, cJSON **json, dcfs_error *e);

/* The options given to a feature in devcontainer.json (`given`: an object of option values; a
 * string, which sets option "version", as the reference CLI reads it; true or {} for none)
 * checked against the feature's `options` (type "boolean" or "string", `default`, `enum`,
 * `proposals`): *values is an object with every declared option (given, else its default;
 * one with neither is left out),
 * *env an array of "NAME=VALUE" for install.sh, NAME made from the option's name as the spec
 * says (non-word characters to '_', leading digits and underscores to one '_', upper case),
 * booleans as "true"/"false" (so, as the reference CLI writes them, the strings "true" and
 * "false" fit a boolean option and a boolean fits a string one; a version string for a feature
 * without a "version" option is dropped with a warning, as that CLI drops it). A value of
 * another type (a number, say), or outside an `enum`, is -EINVAL
 * naming `where` (the feature's key), the option and what it accepts; an option the feature
 * does not declare is a warning through `report` naming it (and is passed on, as the reference
 * CLI passes it). `env` may be NULL (only the values wanted). */
int dcfs_feature_options(const cJSON *json, const cJSON *given, const char *where,
			 dcfs_report *report, cJSON **values, cJSON **env, dcfs_error *e);

/* One resolved feature. */
typedef struct dcfs_feature {
	dcfs_feature_source src;
	char *folder, *digest;	 /* dcfs_feature_fetch's */
	cJSON *json;		 /* devcontainer-feature.json */
	const char *id, *version; /* in json */
	cJSON *values, *env;	 /* dcfs_feature_options's */
	bool added;		 /* not in the configuration: a dependsOn brought it */
} dcfs_feature;

void dcfs_feature_free(dcfs_feature *f);

/* `f` is what a dependsOn of `src` with options `given` asks for: the same resource, and the
 * options (given, else defaults) equal to f's. */
bool dcfs_feature_matches(const dcfs_feature *f, const dcfs_feature_source *src,
			  const cJSON *given);

/* The feature's entry of an image's `devcontainer.metadata` label, as the reference CLI's
 * feature build labels its image: `id` (the key as written) and the properties it picks
 * (init, privileged, capAdd, securityOpt, entrypoint, mounts, customizations and the
 * lifecycle commands). NULL when out of memory. (feature_metadata.c) */
cJSON *dcfs_feature_metadata_entry(const dcfs_feature *f);

/* The install order of `n` features, as the spec's "Installation Order" defines it: dependsOn
 * (hard: every dependency, matched by resource and options, before the feature), installsAfter
 * (soft: only among the features present, matched by resource), overrideFeatureInstallOrder
 * (array of resources or keys as written: those named go first, in its order, as far as
 * dependsOn allows), ties broken as the spec says. order[i] is the index in `f` of the i-th to
 * install. A cycle is -ELOOP naming the features in it; a dependency not among `f`, -ENOENT
 * naming it and who needs it; an override entry naming no feature, -EINVAL. */
int dcfs_feature_order(const dcfs_feature *f, size_t n, const cJSON *override_order,
		       size_t *order, dcfs_error *e);

/* The configuration's features, resolved and ordered: each key of `features` parsed, fetched,
 * read and its options checked; the dependsOn of each added (recursively, with the options the
 * dependsOn gives) unless an equal one is present; then ordered. `config_file` names
 * devcontainer.json in messages (and its folder is where local features are). *out (n *n) is
 * in install order. */
int dcfs_features_resolve(dcfs_store *s, const cJSON *config, const char *config_file,
			  bool insecure, dcfs_report *report, dcfs_feature **out, size_t *n,
			  dcfs_error *e);
void dcfs_features_free(dcfs_feature *f, size_t n);
