/* Prebuild requests for one key: one runs at a time; requests that arrive while it runs wait,
 * and when it ends only the latest of them runs: the others collapse into it. Requests for
 * other keys (a configuration that changed) never wait behind this one.
 *
 * STORE/run/prebuild/<key>.queue holds two counters, the tickets issued and the latest one
 * (updated under a flock of the file itself); STORE/run/prebuild/<key>.run is flocked by the
 * request that runs. A killed request releases both locks with its descriptors. */
#pragma once

#include "error.h"
#include "store.h"

/* Take a ticket and wait for the run lock. Returns 1 with *run_fd holding the lock (close it
 * when done) when this request is the latest, 0 when a newer request supersedes it. */
int dcfs_prebuild_queue_wait(dcfs_store *s, const char *key, int *run_fd, dcfs_error *e);
