#!/usr/bin/env bash
# The demo: install what is missing, build dcfs, make a small busybox root filesystem, import it
# as an image into the store, show what the store holds, then start the examples/hello dev
# container on it, run a command in it, and stop and remove it; then make a prebuild of it,
# start a new container from that prebuild, rebuild it, and remove it.
#
#   tools/demo.sh            store in $DCFS_STORE, else /var/lib/dcfs (run as root)
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

store=${DCFS_STORE:-/var/lib/dcfs}
dcfs=build/tools/dcfs

step() { printf '\n==> %s\n' "$*"; }
show() {
	printf '\n$ dcfs %s\n' "$*"
	"$dcfs" --store "$store" "$@"
}

step "dependencies"
bash tools/install-deps.sh

step "build (build/)"
if [[ ! -f build/build.ninja ]]; then
	meson setup build
fi
meson compile -C build

work=$(mktemp -d "${TMPDIR:-/tmp}/dcfs-demo.XXXXXX")
# the workspace: a copy of examples/hello owned by uid 1000, as a developer's checkout would be
hello=$work/hello
cp -r examples/hello "$hello"
chown -R 1000:1000 "$hello"
# a dev container left by a failed step goes too
trap '"$dcfs" --store "$store" rm -f "$hello" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

step "a busybox root filesystem"
bash tools/make-busybox-rootfs.sh "$work/rootfs"

step "the store: $store"
show import "$work/rootfs" busybox:demo
show du -v
show images

step "a dev container: examples/hello (a copy in $hello)"
show up "$hello"
show exec "$hello" -- sh -c 'id; pwd; ls -la /workspaces/hello $HOME/config/; cat $HOME/config/hello.txt'
show ls
show info # the workspace view's data path (passthrough, io_uring) and the root view's
show du
show down "$hello"
show rm "$hello"

step "a prebuild: onCreateCommand once, then containers start from its snapshot"
show prebuild "$hello"
show snapshots
show up "$hello"
show exec "$hello" -- cat /home/vscode/tools/built
show rebuild "$hello"
show du
show rm -f "$hello"
