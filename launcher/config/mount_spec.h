/* Docker's --mount syntax ("type=bind,source=S,target=T,readonly"), as devcontainer.json's
 * `mounts` strings and `workspaceMount` hand it to `docker run --mount`: one strict parser for
 * both, so that a key dcfs does not act on is refused by name in either. */
#pragma once

#include <stdbool.h>

#include "error.h"

typedef struct dcfs_mount_spec {
	char *type;   /* as written; NULL when missing (Docker's default is volume) */
	char *source; /* NULL when missing */
	char *target;
	bool readonly;
} dcfs_mount_spec;

/* Parse `text`. Keys: type, source or src, target, dst or destination, readonly or ro (=true,
 * =false, =1, =0 or alone), and consistency (accepted and ignored, as Docker does on Linux).
 * Fields may be quoted as CSV ("source=a,b"). Another key, or a key without its value, fails
 * with -EINVAL and "LABEL: unknown key 'K' (...)". Nothing else is checked. */
int dcfs_mount_spec_parse(const char *text, const char *label, dcfs_mount_spec *out,
			  dcfs_error *e);

void dcfs_mount_spec_free(dcfs_mount_spec *m);
