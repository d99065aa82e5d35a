#!/usr/bin/env bash
# Install what dcfs needs to build and test on Debian 12, as root: only the packages that are
# missing, with one `apt-get update` first when anything is. Quiet when nothing is missing.
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
[[ ${#missing[@]} -eq 0 ]] && exit 0

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
