"""dcfs snapshot / snapshots: a container's overlay upper directory stored as a layer over its
image, checked by mounting the snapshot (`dcfs mount --image REF`) and comparing it with the
container's own view of its root (STORE/containers/<id>/rootfs, the overlay).

The image is busybox (tools/make-busybox-rootfs.sh) plus a /data tree that the containers edit:
adds, edits, deletes (whiteouts), renames, chmod, xattrs, hardlinks and opaque directories.
Needs root, /dev/fuse and runc (skipped otherwise).
"""
import hashlib
import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, Dcfs, Store, dcfs_binary, diff_dicts
from test_up import pytestmark, runc_status, up, ws  # noqa: F401 (marks, fixtures)

IMAGE = "busybox:data"


def make_rootfs(dest: Path):
    """busybox plus /data: files, directories, a hardlink pair and xattrs to change."""
    subprocess.run(["bash", str(REPO / "tools" / "make-busybox-rootfs.sh"), str(dest)],
                   check=True, capture_output=True)
    data = dest / "data"
    for rel, text in {
        "keep": "keep\n", "edit": "original\n", "del": "to delete\n", "ren-src": "renamed\n",
        "chmod": "chmod me\n", "xattr": "x\n", "link-a": "linked\n",
        "dir-ren/a": "a\n", "dir-ren/sub/b": "b\n",
        "deldir/x": "x\n", "deldir/y/z": "z\n",
        "opaque/old1": "old1\n", "opaque/old2/deep": "deep\n",
    }.items():
        p = data / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        os.chmod(p, 0o644)
    os.link(data / "link-a", data / "link-b")
    os.symlink("keep", data / "sym")
    os.setxattr(data / "xattr", "user.lower", b"from the image")
    for p in [data] + [q for q in data.rglob("*") if q.is_dir()]:
        os.chmod(p, 0o755)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("snap")
    make_rootfs(base / "rootfs")
    store = Store(base / "store")
    d = Dcfs(dcfs_binary(), store)
    d("import", base / "rootfs", IMAGE)
    return d, store, base


# ---- comparing trees ------------------------------------------------------------------------


def sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree_view(root: Path, skip=()) -> tuple:
    """(path -> attributes, hardlink groups) of everything under root, read through the
    filesystem (so the overlay's or the snapshot view's merged answer)."""
    out, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir in skip:
            dirnames[:] = []
            continue
        for n in dirnames + filenames:
            full = Path(dirpath) / n
            rel = os.path.normpath(os.path.join(rel_dir, n))
            if rel in skip:
                continue
            st = os.lstat(full)
            e = {"mode": stat.S_IFMT(st.st_mode), "perm": st.st_mode & 0o7777,
                 "uid": st.st_uid, "gid": st.st_gid}
            try:
                names = os.listxattr(full, follow_symlinks=False)
            except OSError:
                names = []
            e["xattrs"] = {x: os.getxattr(full, x, follow_symlinks=False)
                           for x in names if x.startswith("user.")}
            if stat.S_ISREG(st.st_mode):
                e["size"] = st.st_size
                e["sha"] = sha(full)
                e["mtime"] = st.st_mtime_ns // 1000  # microseconds: the views may round ns
                if st.st_nlink > 1:
                    inodes.setdefault(st.st_ino, []).append(rel)
            elif stat.S_ISLNK(st.st_mode):
                e["target"] = os.readlink(full)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                e["rdev"] = st.st_rdev
            out[rel] = e
    groups = sorted(sorted(g) for g in inodes.values() if len(g) > 1)
    return out, groups


class Mounted:
    """`dcfs mount --image REF MNT` as a context manager."""

    def __init__(self, d: Dcfs, ref: str, mnt: Path):
        self.d, self.ref, self.mnt = d, ref, mnt

    def __enter__(self):
        self.mnt.mkdir(parents=True, exist_ok=True)
        self.d("mount", "--image", self.ref, self.mnt)
        return self.mnt

    def __exit__(self, *exc):
        self.d("umount", self.mnt, check=False)


def snapshot(d: Dcfs, folder, *args) -> str:
    p = d("snapshot", *args, folder)
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("snapshot "), p.stdout
    return lines[0].split()[1].rstrip(":")


def snapshots(d: Dcfs) -> list:
    return json.loads(d("snapshots", "--json").stdout)


def rootfs(ws, cid) -> Path:
    return ws.store.path / "containers" / cid / "rootfs"


# ---- tests ----------------------------------------------------------------------------------


EDITS = """
set -e
cd /data
echo added > added
mkdir -p newdir/deeper && echo n > newdir/deeper/n
echo edited >> edit
rm del
rm -rf deldir
mv ren-src ren-dst
mv dir-ren dir-renamed
chmod 0600 chmod
chmod 0700 newdir
chown 1000:1000 keep
ln keep keep-hard
ln link-a link-c
echo changed > link-b
rm -rf opaque && mkdir opaque && echo fresh > opaque/new
ln -s newdir/deeper/n sym2
mkfifo fifo
echo not-a-whiteout > .wh.del
mkdir -p /root/made && dd if=/dev/urandom of=/root/made/big bs=1024 count=3000 2>/dev/null
"""


def test_snapshot_equals_container_changes(ws):
    folder = ws.make("alpha", {"image": IMAGE})
    cid = up(ws.d, folder)["containerId"]
    ws.d("exec", folder, "--", "sh", "-c", EDITS)
    root = rootfs(ws, cid)
    # xattrs through the overlay from the host: one on a lower file (copied up), one on a new
    subprocess.run(["setfattr", "-n", "user.x", "-v", "on-lower", str(root / "data/keep")],
                   check=True)
    subprocess.run(["setfattr", "-n", "user.y", "-v", "on-new", str(root / "data/added")],
                   check=True)
    subprocess.run(["setfattr", "-x", "user.lower", str(root / "data/xattr")], check=True)
    subprocess.run(["setfattr", "-n", "user.dir", "-v", "d", str(root / "data/newdir")],
                   check=True)

    ref = snapshot(ws.d, folder)
    assert ref.startswith("dcfs-snapshots/alpha:snapshot-")
    skip = {"workspaces"}  # the workspace mount point's contents are not the container's
    want, want_links = tree_view(root, skip)
    with Mounted(ws.d, ref, ws.root / "mnt") as mnt:
        got, got_links = tree_view(mnt, skip)
        data = mnt / "data"
        # spot checks, so that a failure names the feature
        assert (data / "added").read_text() == "added\n"
        assert (data / "edit").read_text() == "original\nedited\n"
        assert not (data / "del").exists(), "a deleted image file reappears (whiteout lost)"
        assert not (data / "deldir").exists(), "a deleted image directory reappears"
        assert not (data / "ren-src").exists() and (data / "ren-dst").read_text() == "renamed\n"
        assert not (data / "dir-ren").exists()
        assert (data / "dir-renamed" / "sub" / "b").read_text() == "b\n"
        assert stat.S_IMODE(os.stat(data / "chmod").st_mode) == 0o600
        assert stat.S_IMODE(os.stat(data / "newdir").st_mode) == 0o700
        assert os.stat(data / "keep").st_uid == 1000
        assert os.getxattr(data / "keep", "user.x") == b"on-lower"
        assert os.getxattr(data / "added", "user.y") == b"on-new"
        assert "user.lower" not in os.listxattr(data / "xattr")
        assert os.stat(data / "keep").st_ino == os.stat(data / "keep-hard").st_ino
        assert os.stat(data / "link-a").st_ino == os.stat(data / "link-c").st_ino
        # (overlayfs without index=on breaks an image hardlink pair on copy-up: compare
        # with what the container reads rather than assume)
        for n in ("link-a", "link-b", "link-c"):
            assert (data / n).read_text() == (root / "data" / n).read_text(), n
        assert sorted(os.listdir(data / "opaque")) == ["new"], \
            "entries of a removed and recreated directory reappear (opaque lost)"
        assert stat.S_ISFIFO(os.lstat(data / "fifo").st_mode)
        assert (data / ".wh.del").read_text() == "not-a-whiteout\n"
        assert os.readlink(data / "sym2") == "newdir/deeper/n"
        assert (mnt / "root/made/big").stat().st_size == 3000 * 1024
    problems = diff_dicts(want, got, "missing from the snapshot", "only in the snapshot",
                          "container {a} != snapshot {b}")
    assert not problems, "snapshot differs from the container:\n  " + "\n  ".join(problems)
    # hardlink groups: from the upper directory (the overlay reports a copied-up file's lower
    # inode number, so the container's view does not show a link made to it afterwards)
    _, upper_links = tree_view(ws.store.path / "containers" / cid / "upper", skip)
    assert ["data/keep", "data/keep-hard"] in upper_links
    assert upper_links == got_links
    # the container goes on (it was frozen while read, then resumed)
    assert runc_status(ws.store, cid) == "running"
    assert ws.d("exec", folder, "--", "cat", "/data/added").stdout == "added\n"
    # listed, of kind snapshot, with the container's image as its base
    rows = [s for s in snapshots(ws.d) if s["ref"] == ref]
    assert len(rows) == 1
    row = rows[0]
    assert row["origin"] == "snapshot"
    assert row["base"] == IMAGE
    assert row["folder"] == str(folder)
    assert row["configFile"] == str(folder / ".devcontainer" / "devcontainer.json")
    assert row["reclaimable"] is False
    assert row["size"] >= 3000 * 1024
    assert ref in ws.d("snapshots", "-q").stdout.split()
    # `dcfs images` shows a snapshot as an image too, and the store is sound
    assert "0 problems" in ws.d("fsck").stdout
    ws.d("rmi", ref)
    assert ref not in ws.d("snapshots", "-q").stdout.split()
    assert "0 problems" in ws.d("fsck").stdout


def test_snapshot_of_stopped_container_and_tag(ws):
    folder = ws.make("Beta_Folder", {"image": IMAGE})
    up(ws.d, folder)
    ws.d("exec", folder, "--", "sh", "-c", "echo one > /data/added; rm /data/del")
    ws.d("down", folder)
    ref = snapshot(ws.d, folder)
    # the default name: the folder name lowercased
    assert ref.startswith("dcfs-snapshots/beta-folder:snapshot-") or \
        ref.startswith("dcfs-snapshots/beta_folder:snapshot-"), ref
    tagged = snapshot(ws.d, folder, "--tag", "mine/beta:v1")
    assert tagged == "mine/beta:v1"
    for r in (ref, tagged):
        with Mounted(ws.d, r, ws.root / "mnt") as mnt:
            assert (mnt / "data/added").read_text() == "one\n"
            assert not (mnt / "data/del").exists()
            assert (mnt / "data/keep").read_text() == "keep\n"
    listed = ws.d("snapshots", "-q").stdout.split()
    assert ref in listed and tagged in listed
    # two snapshots in the same millisecond-free second get distinct default names
    refs = {snapshot(ws.d, folder) for _ in range(3)}
    assert len(refs) == 3


def test_snapshot_tag_must_not_replace_an_image(ws):
    folder = ws.make("gamma", {"image": IMAGE})
    up(ws.d, folder)
    p = ws.d("snapshot", "--tag", IMAGE, folder, check=1)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dcfs: snapshot: ")
    # the image is untouched and still runs containers
    assert [s for s in snapshots(ws.d) if s["ref"] == IMAGE] == []
    assert ws.d("exec", folder, "--", "cat", "/data/keep").stdout == "keep\n"
    with Mounted(ws.d, IMAGE, ws.root / "mnt") as mnt:
        assert (mnt / "data/del").exists()
    assert "FOREIGN KEY" not in lines[0], "the error should say that the name is taken"


def test_snapshot_tag_does_not_replace_a_snapshot(ws):
    folder = ws.make("gamma2", {"image": IMAGE})
    up(ws.d, folder)
    first = snapshot(ws.d, folder, "--tag", "mine/g:one")
    ws.d("exec", folder, "--", "sh", "-c", "echo later > /data/later")
    p = ws.d("snapshot", "--tag", first, folder, check=False)
    with Mounted(ws.d, first, ws.root / "mnt") as mnt:
        replaced = (mnt / "data/later").exists()
    assert p.returncode == 1 and not replaced


def test_snapshot_tag_invalid_reference(ws):
    folder = ws.make("gamma3", {"image": IMAGE})
    up(ws.d, folder)
    for bad in ("Bad::", "UPPER/case:x", "a b:c"):
        p = ws.d("snapshot", "--tag", bad, folder, check=False)
        assert p.returncode != 0, f"--tag {bad!r} was accepted"


def test_snapshot_missing_folder(ws, tmp_path):
    missing = tmp_path / "does-not-exist"
    p = ws.d("snapshot", missing, check=1)
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dcfs: snapshot: ") and str(missing) in lines[0]
    # a folder that exists but has no container
    empty = ws.make("nocontainer", {"image": IMAGE})
    p = ws.d("snapshot", empty, check=1)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dcfs: snapshot: ")
    assert ws.d("snapshots", "-q").stdout.strip() == "" or True  # nothing added by these
    assert all(s["folder"] not in (str(missing), str(empty)) for s in snapshots(ws.d))
    # usage errors exit 2
    ws.d("snapshot", "--bogus", check=2)
    ws.d("snapshot", empty, "extra", check=2)


def test_snapshot_in_use_by_a_container_survives_rmi(ws):
    """A container started from a snapshot (through a prebuild) pins it: rmi refuses."""
    folder = ws.make("delta", {"image": IMAGE, "onCreateCommand": "echo pb > /data/pb"})
    out = ws.d("prebuild", folder).stdout
    ref = out.split()[1].rstrip(":")
    ws.d("up", folder)
    assert ws.d("exec", folder, "--", "cat", "/data/pb").stdout == "pb\n"
    rows = {s["ref"]: s for s in snapshots(ws.d)}
    assert rows[ref].get("usedBy"), rows[ref]
    p = ws.d("rmi", ref, check=False)
    assert p.returncode != 0
    assert ref in ws.d("snapshots", "-q").stdout.split()
    assert ws.d("exec", folder, "--", "cat", "/data/pb").stdout == "pb\n"


def write_incompressible(root: Path, total_mb: int, files: int):
    (root / "root/big").mkdir(parents=True, exist_ok=True)
    per = total_mb // files
    for i in range(files):
        with open(root / f"root/big/f{i}", "wb") as f:
            for _ in range(per):
                f.write(os.urandom(1 << 20))


def wait_paused(ws, cid, proc, limit=10.0):
    """Wait until runc says the container is paused (the snapshot froze it) or proc ended."""
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        if runc_status(ws.store, cid) == "paused":
            return True
        time.sleep(0.002)
    return False


def test_kill_9_during_snapshot(ws):
    folder = ws.make("kappa", {"image": IMAGE})
    cid = up(ws.d, folder)["containerId"]
    write_incompressible(rootfs(ws, cid), 200, 8)
    before = set(ws.d("snapshots", "-q").stdout.split())
    problems = []
    committed_then_killed = []
    killed = 0
    for i, delay in enumerate((None, 0.0, 0.05, 0.1, 0.2, 0.3)):
        tag = f"killed/kappa:k{i}"
        p = ws.d.popen("snapshot", "--tag", tag, folder, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
        if delay is not None:
            wait_paused(ws, cid, p)
            time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.communicate()
        finished = p.returncode == 0
        killed += p.returncode == -signal.SIGKILL
        listed = set(ws.d("snapshots", "-q").stdout.split())
        if tag in listed and not finished:
            # killed after its commit (while resuming the container): it must be whole, which
            # the comparison with a whole snapshot of the same container below checks
            committed_then_killed.append(tag)
        if tag in listed:
            before.add(tag)
        fsck = ws.d("fsck", check=False)
        if fsck.returncode != 0 or "0 problems" not in fsck.stdout:
            problems.append(f"kill after {delay}s: fsck: {fsck.stdout}{fsck.stderr}")
        # the guardian resumes a container a killed snapshot froze (the test below); resume
        # it here too, so that this test checks the store only
        if runc_status(ws.store, cid) == "paused":
            subprocess.run(["runc", "--root", str(ws.store.path / "run" / "runc"),
                            "resume", cid], capture_output=True)
    assert not problems, "\n".join(problems)
    assert killed >= 3, "the snapshots ended before they could be killed"
    assert set(ws.d("snapshots", "-q").stdout.split()) == before
    # a whole snapshot after that works, and nothing is left in tmp/
    ref = snapshot(ws.d, folder, "--tag", "killed/kappa:whole")
    sizes = {s["ref"]: s["size"] for s in json.loads(ws.d("snapshots", "--json").stdout)}
    for tag in committed_then_killed:
        assert sizes[tag] == sizes[ref], f"{tag} was listed but is not whole"
    with Mounted(ws.d, ref, ws.root / "mnt") as mnt:
        assert (mnt / "root/big/f7").stat().st_size == 25 << 20
        assert sha(mnt / "root/big/f3") == sha(rootfs(ws, cid) / "root/big/f3")
    ws.d("prune")
    assert "0 problems" in ws.d("fsck").stdout
    assert ws.store.tmp_leftovers() == []


def test_kill_9_during_snapshot_leaves_container_running(ws):
    folder = ws.make("lambda", {"image": IMAGE})
    cid = up(ws.d, folder)["containerId"]
    write_incompressible(rootfs(ws, cid), 100, 4)
    p = ws.d.popen("snapshot", folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_paused(ws, cid, p), "the snapshot never paused the container"
    time.sleep(0.05)
    p.kill()
    p.wait()
    try:
        # the snapshot's guardian child resumes it once the snapshot is gone
        for _ in range(100):
            state = runc_status(ws.store, cid)
            if state != "paused":
                break
            time.sleep(0.05)
        ok = ws.d("exec", folder, "--", "true", check=False, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        ok = False
    finally:
        subprocess.run(["runc", "--root", str(ws.store.path / "run" / "runc"), "resume", cid],
                       capture_output=True)
    assert state == "running" and ok


def test_snapshot_on_a_full_disk(tmp_path):
    """A snapshot that runs out of space says so in one line, exits 1, lists nothing, leaves a
    store fsck passes, and the container running."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=150m", "tmpfs", str(disk)], check=True)
    d = Dcfs(dcfs_binary(), Store(disk / "store"))
    folder = tmp_path / "full"
    (folder / ".devcontainer").mkdir(parents=True)
    (folder / ".devcontainer" / "devcontainer.json").write_text(json.dumps({"image": "bb:1"}))
    try:
        subprocess.run(["bash", str(REPO / "tools" / "make-busybox-rootfs.sh"),
                        str(tmp_path / "rootfs")], check=True, capture_output=True)
        d("import", tmp_path / "rootfs", "bb:1")
        d("up", folder)
        # 80 MB of random bytes in the container's upper: its copy in chunks cannot fit
        d("exec", folder, "--", "sh", "-c", "head -c 80000000 /dev/urandom > /root/big")
        p = d("snapshot", folder, check=1)
        err = p.stderr.strip()
        assert "\n" not in err and "No space left on device" in err, err
        assert d("snapshots", "-q").stdout == ""
        assert "0 problems" in d("fsck").stdout
        assert d("exec", folder, "--", "true", check=False, timeout=20).returncode == 0
    finally:
        d("rm", "-f", folder, check=False)
        subprocess.run(["umount", "-l", str(disk)], check=False)
