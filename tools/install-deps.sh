#!/usr/bin/env bash
# Install what dcfs needs to build and test on Debian 12, as root: only the packages that are
# missing, with one `apt-get update` first when anything is; then the newer libfuse (>= 3.17, FUSE
# passthrough) that meson.build prefers, built by tools/install-libfuse.sh into /opt/dcfs-libfuse
# (seconds when it is there already). When that cannot be built (no source package reachable),
# it says so and dcfs builds against the system's libfuse 3.14, the slower fallback.
# DCFS_LIBFUSE=system skips it. It also turns on the kernel's FUSE over io_uring
# (/sys/module/fuse/parameters/enable_uring, until the next boot) unless DCFS_FUSE_IO_URING=0.
# Quiet when nothing is missing.
#
#   tools/install-deps.sh [EXTRA-PACKAGE...]
set -euo pipefail

packages=(
	build-essential meson ninja-build pkg-config
	libfuse3-dev fuse3 libsqlite3-dev libcjson-dev libcurl4-openssl-dev libzstd-dev
	libarchive-dev libssl-dev libisal-dev zlib1g-dev
	python3-pytest busybox-static attr acl zstd sqlite3 xz-utils bzip2 procps util-linux git
	docker-registry apache2-utils debootstrap
	runc podman buildah docker.io podman-compose docker-compose
	golang-github-containernetworking-plugin-dnsname
	"$@"
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [[ $status != "install ok installed" ]]; then
		missing+=("$p")
	fi
done
install_libfuse() {
	[[ ${DCFS_LIBFUSE:-} == system ]] && return 0
	local here
	here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
	if ! bash "$here/install-libfuse.sh" >/dev/null; then
		echo "install-deps.sh: libfuse >= 3.17 could not be built (see above): dcfs builds" \
			"against the system's libfuse 3.14, without FUSE passthrough" >&2
	fi
	# FUSE over io_uring (libfuse >= 3.18 uses it when the kernel offers it): the kernel
	# (>= 6.14) has it behind a switch that is off until set, and off again after a reboot
	local knob=/sys/module/fuse/parameters/enable_uring
	if [[ ${DCFS_FUSE_IO_URING:-1} != 0 && -w $knob && $(<"$knob") == N ]]; then
		if echo Y >"$knob" 2>/dev/null; then
			echo "install-deps.sh: enabled FUSE over io_uring ($knob = Y;" \
				"DCFS_FUSE_IO_URING=0 leaves it off)" >&2
		fi
	fi
	return 0
}

if [[ ${#missing[@]} -eq 0 ]]; then
	install_libfuse
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps.sh: missing packages: ${missing[*]}" >&2
	echo "install-deps.sh: run me as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi

echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
apt-get "${apt_opts[@]}" -qq update >/dev/null
apt-get "${apt_opts[@]}" -qq install --no-install-recommends "${missing[@]}" </dev/null
install_libfuse
