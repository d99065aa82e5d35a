#!/usr/bin/env bash
# Build a minimal root filesystem around Debian's busybox-static in DIR, without the network:
# bin/busybox and a symlink per applet, root and a `vscode` user (uid 1000), /tmp, /root,
# /home/vscode and empty /dev, /proc, /sys.
#
#   tools/make-busybox-rootfs.sh DIR
#
# Set SOURCE_DATE_EPOCH to give every file that mtime (equal trees then import equally).
set -euo pipefail

if [[ $# -ne 1 || $1 == -* ]]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1

busybox=$(command -v busybox || true)
[[ -n $busybox ]] || busybox=/bin/busybox
if [[ ! -x $busybox ]]; then
	echo "make-busybox-rootfs.sh: no busybox found (apt-get install busybox-static)" >&2
	exit 1
fi
# A dynamically linked busybox would need its libraries in the tree.
if command -v file >/dev/null && ! file -L "$busybox" | grep -q 'statically linked'; then
	echo "make-busybox-rootfs.sh: warning: $busybox is not statically linked" >&2
fi

mkdir -p "$dir"
cd "$dir"
mkdir -p bin etc dev proc sys root tmp home/vscode
install -m 0755 "$busybox" bin/busybox
n=0
for applet in $(bin/busybox --list); do
	[[ $applet == busybox || $applet == */* ]] && continue
	ln -sfn busybox "bin/$applet"
	n=$((n + 1))
done

cat >etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
vscode:x:1000:1000:vscode:/home/vscode:/bin/sh
PASSWD
cat >etc/group <<'GROUP'
root:x:0:
vscode:x:1000:
GROUP
echo dcfs-busybox >etc/hostname
chmod 0644 etc/passwd etc/group etc/hostname

chmod 0755 . bin etc dev proc sys home
chmod 0700 root
chmod 1777 tmp
chmod 0755 home/vscode
if ! chown 1000:1000 home/vscode 2>/dev/null; then
	echo "make-busybox-rootfs.sh: warning: cannot chown home/vscode to 1000:1000 (not root?)" >&2
fi

if [[ -n ${SOURCE_DATE_EPOCH:-} ]]; then
	find . -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
fi
echo "make-busybox-rootfs.sh: $(pwd): busybox with $n applets" >&2
