/* Linux capabilities by name, as `docker run --cap-add/--cap-drop` and devcontainer.json's
 * capAdd take them: "CAP_" optional, any case, "ALL" for every one; and the set a container
 * gets from Docker's defaults, the additions and the drops. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "error.h"

/* The capability's number ("chown", "CAP_CHOWN", "Cap_Chown" all give 0); -2 for "ALL"; -1
 * when unknown. */
int dcfs_cap_number(const char *name);
/* "CAP_CHOWN" for 0; NULL past the last one known. */
const char *dcfs_cap_name(int number);

/* Check that `names` (an array of strings; NULL: none) holds only known capabilities or ALL.
 * Fails with -EINVAL and "unknown capability 'NAME'" (or "expected capability names"). */
int dcfs_caps_check(const cJSON *names, dcfs_error *e);

/* The container's capability set (array of "CAP_..." names, held by this process's bounding
 * set), as Docker computes it: privileged, or ALL added: every one (less the drops); ALL
 * dropped: only the additions; else Docker's defaults less the drops plus the additions.
 * `add` and `drop` are arrays of names (NULL: none), checked as dcfs_caps_check does. */
int dcfs_caps_resolve(const cJSON *add, const cJSON *drop, bool privileged, cJSON **out,
		      dcfs_error *e);
