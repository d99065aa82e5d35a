/* The script a dev container's process 1 runs, as the reference CLI writes it
 * (src/spec-node/singleContainer.ts): say it started, exit on SIGTERM, run the features'
 * entrypoints (the merged configuration's "entrypoints"), then exec "$@" (the image's
 * entrypoint and command when overrideCommand is false; nothing else) and otherwise wait for
 * ever. Run as `/bin/sh -c SCRIPT - [ARGS...]`. */
#pragma once

#include <cjson/cJSON.h>

/* malloc'd; NULL when out of memory. */
char *dcfs_keep_alive_script(const cJSON *entrypoints);
