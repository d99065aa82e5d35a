"""Paths only root may reach: a running container's mounts as another local user sees them.

`dcfs up` mounts the workspace view (allow_other) under /run/dcfs/<store>/<id>/workspace and
the container's root under STORE/containers/<id>/rootfs (an overlay over a FUSE view in
STORE/mnt/). Every one of those paths is in /proc/self/mounts, which anyone can read: the
folders above them must keep other users out, or a folder under a private parent (/root/proj)
and the image's content would be open to all. Here the store's own folder and the folder above
it are open (0755), so only what dcfs makes can keep "nobody" (uid 65534) out; the container's
non-root user still works in the workspace. Needs root, /dev/fuse and runc.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import REPO, Dcfs, Store, dcfs_binary

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="needs /dev/fuse"),
    pytest.mark.skipif(shutil.which("runc") is None, reason="needs runc (apt-get install runc)"),
]

IMAGE = "busybox:demo"
NOBODY = 65534

# Run as nobody: for each path, "ok" when it can be listed, else the error's name.
PROBE = """
import errno, json, os, sys
out = {}
for p in sys.argv[1:]:
    try:
        os.listdir(p)
        out[p] = "ok"
    except OSError as e:
        out[p] = errno.errorcode.get(e.errno, str(e.errno))
print(json.dumps(out))
"""


def as_nobody(paths):
    p = subprocess.run([sys.executable, "-c", PROBE, *map(str, paths)], user=NOBODY,
                       group=NOBODY, extra_groups=[], cwd="/", capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def mount_points():
    with open("/proc/self/mounts") as f:
        return [line.split()[1].replace("\\040", " ") for line in f]


@pytest.fixture(scope="module")
def env():
    """(Dcfs, Store, base): busybox:demo in a store at BASE/store; BASE is in /tmp and open
    (0755), unlike pytest's own folders, so that nothing above dcfs's folders hides them."""
    base = Path(tempfile.mkdtemp(prefix="dcfs-private-", dir="/tmp"))
    os.chmod(base, 0o755)
    (base / "store").mkdir(mode=0o755)
    os.chmod(base / "store", 0o755)
    subprocess.run(["bash", str(REPO / "tools" / "make-busybox-rootfs.sh"), str(base / "rootfs")],
                   check=True, capture_output=True)
    store = Store(base / "store")
    d = Dcfs(dcfs_binary(), store)
    d("import", base / "rootfs", IMAGE)
    yield d, store, base
    # only when nothing is mounted below it any more (never delete through a mount)
    if not any(m.startswith(str(base) + "/") for m in mount_points()):
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def folder(env):
    """BASE/private (0700, root's) /proj (uid 1000's), with its devcontainer.json; removed
    with `dcfs rm -f` after the test."""
    d, store, base = env
    private = base / "private"
    private.mkdir(mode=0o700)
    os.chmod(private, 0o700)
    proj = private / "proj"
    (proj / ".devcontainer").mkdir(parents=True)
    (proj / ".devcontainer" / "devcontainer.json").write_text(
        json.dumps({"image": IMAGE, "remoteUser": "vscode"}))
    (proj / "secret.txt").write_text("secret\n")
    for p in (proj, proj / ".devcontainer", proj / "secret.txt"):
        os.chown(p, 1000, 1000)
    os.chmod(proj, 0o755)
    yield proj
    d("rm", "-f", proj, check=False)
    shutil.rmtree(private, ignore_errors=True)


def run_dir_of(store):
    """/run/dcfs/<sha256(store's real path)[:16]>, as dcfs names it."""
    root = os.path.realpath(store.path)
    return Path("/run/dcfs") / hashlib.sha256(root.encode()).hexdigest()[:16]


def test_workspace_and_root_are_roots_alone(env, folder):
    d, store, base = env
    # the store's folder as an older dcfs left it: open to all (0711)
    old = run_dir_of(store)
    old.mkdir(parents=True, exist_ok=True)
    os.chmod(old, 0o711)
    out = json.loads(d("up", "--json", folder).stdout.strip().splitlines()[-1])
    cid = out["containerId"]
    mounts = mount_points()
    workspace = [m for m in mounts if m.endswith(f"/{cid}/workspace")]
    rootfs = [m for m in mounts if m.endswith(f"/containers/{cid}/rootfs")]
    hidden = [m for m in mounts if m.startswith(os.path.realpath(store.path) + "/mnt/")]
    assert len(workspace) == 1 and len(rootfs) == 1 and hidden, mounts
    # root reaches them all
    assert "secret.txt" in os.listdir(workspace[0])
    assert "bin" in os.listdir(rootfs[0]) and "bin" in os.listdir(hidden[0])
    # nobody reaches none of them, though the store's folder is open; "/" and BASE are the
    # control: nobody can list those, so a refusal below is dcfs's doing
    upper = store.path / "containers" / cid / "upper"
    paths = [workspace[0], rootfs[0], *hidden, upper, "/", base, store.path]
    seen = as_nobody(paths)
    assert seen == {**{str(p): "EACCES" for p in paths[:-3]},
                    "/": "ok", str(base): "ok", str(store.path): "ok"}, seen
    assert (old.stat().st_mode & 0o777) == 0o700  # tightened on this up
    assert (old / cid).stat().st_mode & 0o777 == 0o700
    # runc (root) bound the workspace in all the same: the container's non-root user works
    p = d("exec", folder, "--", "sh", "-c",
          "id -u; cat /workspaces/proj/secret.txt; echo made > /workspaces/proj/made.txt")
    assert p.stdout.split() == ["1000", "secret"]
    assert (folder / "made.txt").read_text() == "made\n"
    assert (folder / "made.txt").stat().st_uid == 1000
