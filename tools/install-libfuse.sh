#!/usr/bin/env bash
# Build a newer libfuse from Debian's fuse3 source packages and install it into PREFIX only, as
# root: the newest that builds here of unstable's (>= 3.18: FUSE over io_uring) and trixie's
# (3.17: FUSE passthrough). Debian 12 ships libfuse 3.14; the system's libfuse and its
# fusermount3 stay as they are (dcfs runs as root, so it mounts with mount(2)).
#
#   tools/install-libfuse.sh [PREFIX]      (default /opt/dcfs-libfuse)
#
# tools/install-deps.sh runs it, and meson.build looks in /opt/dcfs-libfuse first (the binary
# gets an rpath to PREFIX/lib); `meson setup BUILD -Dpkg_config_path=[]` builds against the
# system's libfuse instead.
#
# Idempotent: exits at once when PREFIX already holds libfuse >= 3.18 (or >= 3.17 when no newer
# source builds). Otherwise it adds a deb-src-only entry for unstable and trixie (no binary
# package can come from them), runs apt-get update, installs the few build tools and libraries
# it needs from bookworm (liburing-dev and libnuma-dev for io_uring), fetches and unpacks each
# candidate source under /var/cache/dcfs-libfuse, and builds only the library (no utils,
# examples or tests); a candidate that fails to build is reported and the next one is tried.
# DCFS_DEBIAN_MIRROR overrides the mirror of the deb-src entry (default deb.debian.org).
set -euo pipefail

prefix=${1:-/opt/dcfs-libfuse}
min_version=3.17  # FUSE passthrough
want_version=3.18 # FUSE over io_uring
suites="unstable trixie"
workdir=/var/cache/dcfs-libfuse
sources_file=/etc/apt/sources.list.d/dcfs-libfuse-src.sources
old_sources_file=/etc/apt/sources.list.d/dcfs-trixie-src.sources
mirror=${DCFS_DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { echo "install-libfuse.sh: $*" >&2; }
die() { say "$*"; exit 1; }

[[ $prefix == /* ]] || die "PREFIX must be an absolute path: $prefix"
prefix=${prefix%/}
case $prefix in
'' | /usr | /usr/local | /) die "refusing to install over the system's libfuse in '${prefix:-/}'" ;;
esac

# The version PREFIX holds, empty when it holds no complete install.
installed_version() {
	local pc=$prefix/lib/pkgconfig/fuse3.pc
	[[ -f $pc && -e $prefix/lib/libfuse3.so && -f $prefix/include/fuse3/fuse_lowlevel.h ]] || return 0
	sed -n 's/^Version:[[:space:]]*//p' "$pc" | head -n 1
}

has_at_least() {
	local v
	v=$(installed_version)
	[[ -n $v ]] && dpkg --compare-versions "$v" ge "$1"
}

done_line() {
	echo "libfuse $(installed_version) is in $prefix (PKG_CONFIG_PATH=$prefix/lib/pkgconfig)"
}

if has_at_least "$want_version"; then
	done_line
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	has_at_least "$min_version" && { done_line; exit 0; }
	die "PREFIX $prefix has no libfuse >= $min_version; run me as root to build it"
fi

mkdir -p "$workdir"
# One build at a time; a second caller waits and then finds the install done.
exec 9>"$workdir/lock"
flock 9
if has_at_least "$want_version"; then
	done_line
	exit 0
fi

start=$SECONDS
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o Dpkg::Use-Pty=0 -o APT::Sandbox::User=root)

# deb-src only: apt can fetch these suites' source packages, never install their binaries.
# Check-Valid-Until: no, because unstable's Release file carries a Valid-Until date that a
# mirror snapshot outlives (apt then refuses the whole update); the signature is still checked,
# and so are the source files' hashes against it.
entry="Types: deb-src
URIs: $mirror
Suites: $suites
Components: main
Check-Valid-Until: no
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
rm -f "$old_sources_file"
if [[ ! -f $sources_file || $(<"$sources_file") != "$entry" ]]; then
	say "adding $sources_file (deb-src $suites only)"
	printf '%s\n' "$entry" >"$sources_file"
fi
say "apt-get update"
# A suite that cannot be fetched must not stop the others: the candidates below come from
# whatever indexes apt has.
apt-get "${apt_opts[@]}" update >/dev/null || say "apt-get update reported errors (above); going on with what it fetched"

# What the library alone needs (utils, with their udev/systemd bits, are not built); all from
# bookworm. dpkg-dev and xz-utils unpack the source package; liburing and libnuma give io_uring.
packages=(meson ninja-build pkgconf gcc libc6-dev dpkg-dev xz-utils liburing-dev libnuma-dev)
missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	say "installing ${missing[*]}"
	apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi

# build VERSION: fetch, unpack and build that fuse3 source into PREFIX; non-zero on failure.
build() {
	local version=$1 upstream
	upstream=${version#*:}
	upstream=${upstream%-*}
	say "fetching fuse3 $version source"
	cd "$workdir"
	rm -rf src build
	find . -maxdepth 1 -name 'fuse3_*' ! -name "fuse3_${upstream}*" -delete
	apt-get "${apt_opts[@]}" source --download-only "fuse3=$version" >/dev/null || return 1
	# apt checked the files against the signed Sources index; the .dsc signature itself needs
	# debian-keyring, which we do not install, hence --no-check.
	dpkg-source --no-check -x "fuse3_${version#*:}.dsc" src >/dev/null || return 1
	say "building libfuse $upstream"
	: >build.log
	if ! { meson setup build src --wrap-mode=nodownload --prefix="$prefix" --libdir=lib \
		--buildtype=release -Dutils=false -Dexamples=false -Dtests=false -Dinitscriptdir= \
		-Duseroot=false && ninja -C build; } >>build.log 2>&1; then
		tail -n 20 build.log >&2
		return 1
	fi
	# Remove what an older install left, so a half-done install never looks complete.
	rm -f "$prefix/lib/pkgconfig/fuse3.pc"
	meson install -C build --no-rebuild >>build.log 2>&1 || { tail -n 20 build.log >&2; return 1; }
	has_at_least "$upstream"
}

# Candidates, newest first: every fuse3 source version the deb-src entries offer.
mapfile -t versions < <(apt-cache showsrc fuse3 2>/dev/null | sed -n 's/^Version: //p' | sort -Vru)
for version in "${versions[@]}"; do
	upstream=${version#*:}
	upstream=${upstream%-*}
	dpkg --compare-versions "$upstream" ge "$min_version" || continue
	if has_at_least "$upstream"; then
		break # what PREFIX holds is as new as what is left to try
	fi
	if build "$version"; then
		say "done in $((SECONDS - start)) s"
		break
	fi
	say "fuse3 $version did not build here (log: $workdir/build.log); trying an older one"
done
has_at_least "$min_version" || die "no fuse3 source >= $min_version could be built; is $sources_file reachable?"
done_line
