/* Seccomp profiles in Docker's format (defaultAction, archMap, syscalls[] with includes and
 * excludes by capability, architecture and kernel) turned into the OCI runtime spec's
 * `linux.seccomp` for one container, as Docker does it; and Docker's default profile, built
 * into this binary. */
#pragma once

#include <cjson/cJSON.h>

#include "error.h"

/* The machine a filter is made for. */
typedef struct dcfs_seccomp_target {
	const char *machine; /* uname's: "x86_64", "aarch64", ... */
	const char *kernel;  /* uname's release: "6.1.0-13-amd64" */
	const cJSON *caps;   /* the container's capability set: array of "CAP_..." names */
} dcfs_seccomp_target;

/* `profile` (Docker's format) -> a new `linux.seccomp` object in *out. A syscall rule is kept
 * when its includes all hold and none of its excludes does; architectures come from the archMap
 * entry of the target's machine. A profile that is not in that format fails with -EINVAL and a
 * message saying what is wrong. */
int dcfs_seccomp_convert(const cJSON *profile, const dcfs_seccomp_target *t, cJSON **out,
			 dcfs_error *e);

/* Read the profile at `path` (NULL: the built-in default) into *out. A missing or unreadable
 * file or one that is not JSON fails with a message naming it. */
int dcfs_seccomp_load(const char *path, cJSON **out, dcfs_error *e);

/* `linux.seccomp` of the profile at `path` (NULL: the default) for this machine (uname) and
 * `caps`. Errors name the file. */
int dcfs_seccomp_for(const char *path, const cJSON *caps, cJSON **out, dcfs_error *e);
