/* The engine names dcfs knows: runc (its own bundles, the default), podman and docker (through
 * their Engine API). */
#include <string.h>

#include "engine.h"

bool dcfs_engine_kind_valid(const char *kind)
{
	return kind && (!strcmp(kind, "runc") || !strcmp(kind, "podman") || !strcmp(kind, "docker"));
}
