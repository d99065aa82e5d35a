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
# a dev container left by a failed step goes too (the workspace copy is under $work)
trap '"$dcfs" --store "$store" rm -f examples/hello >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

step "a busybox root filesystem"
bash tools/make-busybox-rootfs.sh "$work/rootfs"

step "the store: $store"
show import "$work/rootfs" busybox:demo
show du -v
show images

step "a dev container: examples/hello"
show up examples/hello
show exec examples/hello -- sh -c 'id; pwd; ls -la /workspaces/hello $HOME/config/; cat $HOME/config/hello.txt'
show ls
show du
show down examples/hello
show rm examples/hello

step "a prebuild: onCreateCommand once, then containers start from its snapshot"
show prebuild examples/hello
show snapshots
show up examples/hello
show exec examples/hello -- cat /home/vscode/tools/built
show rebuild examples/hello
show du
show rm -f examples/hello
