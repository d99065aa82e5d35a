/* Naming and choosing the image builder (see builder.h): podman when it is on PATH, else docker
 * when a Docker engine answers `docker version` within a few seconds, else buildah. An explicit
 * choice must be installed (docker: its engine must answer); the errors name the Debian package
 * that provides each. */
#include <stdlib.h>
#include <string.h>

#include "build_internal.h"
#include "cleanup.h"

#define DOCKER_TIMEOUT_MS 3000

static const char *const names[] = {
	[DCFS_BUILDER_AUTO] = "auto",
	[DCFS_BUILDER_PODMAN] = "podman",
	[DCFS_BUILDER_BUILDAH] = "buildah",
	[DCFS_BUILDER_DOCKER] = "docker",
};

int dcfs_builder_parse(const char *name, dcfs_builder_kind *out, dcfs_error *e)
{
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (!strcmp(name, names[i])) {
			*out = (dcfs_builder_kind)i;
			return 0;
		}
	return dcfs_error_set(e, EINVAL, "unknown builder '%s': use podman, buildah or docker",
			      name);
}

const char *dcfs_builder_name(dcfs_builder_kind k)
{
	return (size_t)k < ELEMENTSOF(names) ? names[k] : "?";
}

/* Whether a Docker engine answers the docker command; `e` says why not. */
static int docker_answers(dcfs_error *e)
{
	char *const argv[] = {"docker", "version", "--format", "{{.Server.Version}}", NULL};
	_cleanup_free_ char *out = NULL;
	int r = dcfs_build_capture(argv, DOCKER_TIMEOUT_MS, &out, e);
	if (r < 0)
		return r;
	if (!out[strspn(out, " \n")])
		return dcfs_error_set(e, ENOENT, "docker version: no server version");
	return 0;
}

static const char *package(dcfs_builder_kind k)
{
	return k == DCFS_BUILDER_DOCKER ? "docker.io" : dcfs_builder_name(k);
}

/* The builder the user named: installed (docker: answering), or an error naming it. */
static int check_wanted(dcfs_builder_kind want, dcfs_error *e)
{
	const char *prog = dcfs_build_program(want);
	if (!dcfs_build_on_path(prog))
		return dcfs_error_set(e, ENOENT, "builder %s is not installed (Debian package %s)",
				      prog, package(want));
	if (want != DCFS_BUILDER_DOCKER)
		return 0;
	int r = docker_answers(e);
	return r < 0 ? dcfs_error_wrap(e, "builder docker: no Docker engine answers") : 0;
}

int dcfs_builder_choose(dcfs_builder_kind want, dcfs_builder_kind *out, dcfs_error *e)
{
	if (want != DCFS_BUILDER_AUTO) {
		int r = check_wanted(want, e);
		if (r >= 0)
			*out = want;
		return r;
	}
	if (dcfs_build_on_path("podman")) {
		*out = DCFS_BUILDER_PODMAN;
		return 0;
	}
	_cleanup_error_ dcfs_error ignored = {0};
	if (dcfs_build_on_path("docker") && docker_answers(&ignored) >= 0) {
		*out = DCFS_BUILDER_DOCKER;
		return 0;
	}
	if (dcfs_build_on_path("buildah")) {
		*out = DCFS_BUILDER_BUILDAH;
		return 0;
	}
	return dcfs_error_set(e, ENOENT, "no image builder found: install one (Debian packages "
			      "podman, buildah or docker.io)");
}
