/* An OCI image config assembled from a builder's `image inspect` output, for when the builder's
 * exact config blob cannot be read: architecture, os, created, config (User, Env, Entrypoint,
 * Cmd, WorkingDir, Labels, ExposedPorts, Volumes, StopSignal), rootfs.diff_ids and history. */
#pragma once

#include <cjson/cJSON.h>

/* The config as JSON text (malloc'd), or NULL when out of memory. */
char *dcfs_build_config_from_inspect(const cJSON *inspect);
