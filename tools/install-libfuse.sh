#!/usr/bin/env bash
# Build a newer libfuse (>= 3.17, for FUSE passthrough) from Debian trixie's fuse3 source
# package and install it into PREFIX only, as root. Debian 12 ships libfuse 3.14; the system's
# libfuse and its fusermount3 stay as they are (dcfs runs as root, so it mounts with mount(2)).
#
#   tools/install-libfuse.sh [PREFIX]      (default /opt/dcfs-libfuse)
#
# Then build dcfs against it (the binary gets an rpath to PREFIX/lib):
#   PKG_CONFIG_PATH=PREFIX/lib/pkgconfig meson setup build-fuse317 && ninja -C build-fuse317
#
# Idempotent: exits at once when PREFIX already holds libfuse >= 3.17. Otherwise it adds a
# deb-src-only entry for trixie (no binary package can come from trixie), runs apt-get update,
# installs the few build tools it needs from bookworm, fetches and unpacks the source under
# /var/cache/dcfs-libfuse, and builds only the library (no utils, examples or tests).
# DCFS_DEBIAN_MIRROR overrides the mirror of the deb-src entry (default deb.debian.org).
set -euo pipefail

prefix=${1:-/opt/dcfs-libfuse}
min_version=3.17
suite=trixie
workdir=/var/cache/dcfs-libfuse
sources_file=/etc/apt/sources.list.d/dcfs-trixie-src.sources
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

have_new_enough() {
	local v
	v=$(installed_version)
	[[ -n $v ]] && dpkg --compare-versions "$v" ge "$min_version"
}

done_line() {
	echo "libfuse $(installed_version) is in $prefix (PKG_CONFIG_PATH=$prefix/lib/pkgconfig)"
}

if have_new_enough; then
	done_line
	exit 0
fi

[[ $(id -u) -eq 0 ]] || die "PREFIX $prefix has no libfuse >= $min_version; run me as root to build it"

mkdir -p "$workdir"
# One build at a time; a second caller waits and then finds the install done.
exec 9>"$workdir/lock"
flock 9
if have_new_enough; then
	done_line
	exit 0
fi

start=$SECONDS
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o Dpkg::Use-Pty=0 -o APT::Sandbox::User=root)

# deb-src only: apt can fetch trixie's source packages, never install its binaries.
entry="Types: deb-src
URIs: $mirror
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
if [[ ! -f $sources_file || $(<"$sources_file") != "$entry" ]]; then
	say "adding $sources_file (deb-src $suite only)"
	printf '%s\n' "$entry" >"$sources_file"
fi
say "apt-get update"
apt-get "${apt_opts[@]}" update >/dev/null

# What the library alone needs (utils, with their udev/systemd bits, are not built); all from
# bookworm. dpkg-dev and xz-utils unpack the source package.
packages=(meson ninja-build pkgconf gcc libc6-dev dpkg-dev xz-utils)
missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	say "installing ${missing[*]}"
	apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi

# The newest fuse3 source any deb-src entry offers (trixie's).
version=$(apt-cache showsrc fuse3 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n 1)
[[ -n $version ]] || die "apt knows no fuse3 source package; is $sources_file reachable?"
upstream=${version#*:}
upstream=${upstream%-*}
dpkg --compare-versions "$upstream" ge "$min_version" ||
	die "the newest fuse3 source is $version, older than $min_version"

say "fetching fuse3 $version source"
cd "$workdir"
rm -rf src build
find . -maxdepth 1 -name 'fuse3_*' ! -name "fuse3_${upstream}*" -delete
apt-get "${apt_opts[@]}" source --download-only "fuse3=$version" >/dev/null
# apt checked the files against the signed Sources index; the .dsc signature itself needs
# debian-keyring, which we do not install, hence --no-check.
dpkg-source --no-check -x "fuse3_${version#*:}.dsc" src >/dev/null

say "building libfuse $upstream"
# Remove what an older or broken install left, so a half-done install never looks complete.
rm -f "$prefix/lib/pkgconfig/fuse3.pc"
logged() {
	"$@" >>build.log 2>&1 || { tail -n 30 build.log >&2; die "failed: $* (log: $workdir/build.log)"; }
}
: >build.log
logged meson setup build src --wrap-mode=nodownload \
	--prefix="$prefix" --libdir=lib --buildtype=release \
	-Dutils=false -Dexamples=false -Dtests=false -Dinitscriptdir= -Duseroot=false
logged ninja -C build
logged meson install -C build --no-rebuild

have_new_enough || die "the install in $prefix does not look right; see $workdir/build.log"
say "done in $((SECONDS - start)) s"
done_line
