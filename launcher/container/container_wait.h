/* Waiting for a container that `dcfs snapshot` has frozen (runc paused) while it reads the
 * container's changes, before running something in it. */
#pragma once

#include <stdio.h>

#include "runtime.h"

/* The container's runc state ("running", "stopped", ...; malloc'd, NULL when runc does not know
 * it), after waiting while it is "paused": polled every 100 ms, for at most 10 minutes. The
 * first wait says so once on `notes` (NULL: quiet), naming the container `name`. */
char *dcfs_container_wait_unpaused(const dcfs_runc *rc, const char *id, const char *name, FILE *notes);
