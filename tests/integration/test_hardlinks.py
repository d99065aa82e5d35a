"""Hardlinked content across layers: when an upper layer whites out or replaces the first name of
a hardlink group (the name the others' catalog entries point at), the remaining names keep the
inode's content, mode, owner, times and xattrs, and still share one inode, in `dcfs mount`, in a
container root and in a real container, as the kernel's overlayfs shows the same layers
(mounted here from the extracted layer folders as the reference). Snapshots of a container that
removed a first name, and push and pull back of such images, keep them too.

Layers are built as overlayfs folders (a whiteout is a 0/0 character device), turned into OCI
tars (`.wh.NAME`), pushed to a loopback registry (registry.py) and pulled. Needs root, /dev/fuse,
docker-registry, and runc for the container tests.
"""
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from conftest import REPO, Dcfs, Store, dcfs_binary, diff_dicts
from registry import OCI_LAYER, Registry

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="needs /dev/fuse"),
    pytest.mark.skipif(not shutil.which("docker-registry"), reason="needs docker-registry"),
]
needs_runc = pytest.mark.skipif(shutil.which("runc") is None, reason="needs runc")

MTIME = 1_650_000_000  # whole seconds: tar keeps them exactly
PERL = os.urandom(200_000)  # a large file (chunked, not packed)
THREE = b"one inode, three names\n"


def is_mount(path) -> bool:
    return subprocess.run(["mountpoint", "-q", str(path)]).returncode == 0


def umount(path):
    for _ in range(3):
        if not is_mount(path):
            break
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def busybox(dest: Path):
    subprocess.run(["bash", str(REPO / "tools" / "make-busybox-rootfs.sh"), str(dest)],
                   check=True, capture_output=True, env=dict(os.environ, SOURCE_DATE_EPOCH="0"))


def put(root: Path, rel, data, mode=0o644, owner=(0, 0), xattrs=None):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    os.chown(p, *owner)
    os.chmod(p, mode)
    for k, v in (xattrs or {}).items():
        os.setxattr(p, k, v)
    return p


def whiteout(root: Path, rel):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    os.mknod(p, stat.S_IFCHR | 0o600, os.makedev(0, 0))


def settle_times(root: Path):
    """Every entry gets MTIME (children first, so that directory times stick)."""
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for n in filenames + dirnames:
            os.utime(os.path.join(dirpath, n), (MTIME, MTIME), follow_symlinks=False)
    os.utime(root, (MTIME, MTIME))


def lower_layer(root: Path):
    """perl and perl5.36 (two names), b/one, b/two, b/three (three names), c/perl and
    c/perl5.36 (two names), each group with its own mode, owner and xattrs."""
    put(root, "a/perl", PERL, 0o751, (1000, 1001), {"user.origin": b"perl"})
    os.link(root / "a/perl", root / "a/perl5.36")
    put(root, "b/one", THREE, 0o640, (0, 1000), {"user.group": b"three"})
    os.link(root / "b/one", root / "b/two")
    os.link(root / "b/one", root / "b/three")
    put(root, "c/perl", b"old perl\n", 0o755, (0, 0), {"user.v": b"old"})
    os.link(root / "c/perl", root / "c/perl5.36")
    (root / "d").mkdir()
    os.symlink("../a/perl5.36", root / "d/s1")
    os.link(root / "d/s1", root / "d/s2", follow_symlinks=False)
    settle_times(root)


def upper_layer(root: Path):
    """Whites out a/perl, b/one and d/s1, replaces c/perl with another file."""
    whiteout(root, "a/perl")
    whiteout(root, "b/one")
    whiteout(root, "d/s1")
    put(root, "c/perl", b"new perl\n", 0o700, (0, 0))
    settle_times(root)


def oci_layer(root: Path) -> bytes:
    """An OCI layer tar of an overlayfs folder: whiteouts become `.wh.NAME`, hardlinks tar
    hardlinks (by inode, symlinks too), xattrs SCHILY.xattr records."""
    buf, first = io.BytesIO(), {}
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for n in sorted(dirnames + filenames):
                full = Path(dirpath) / n
                rel = str(full.relative_to(root))
                st = os.lstat(full)
                if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                    ti = tarfile.TarInfo(str(Path(rel).parent / (".wh." + n)))
                    ti.mtime = MTIME
                    tf.addfile(ti)
                    continue
                ti = tf.gettarinfo(str(full), arcname=rel)
                if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
                    if st.st_ino in first and not ti.islnk():
                        ti.type, ti.linkname, ti.size = tarfile.LNKTYPE, first[st.st_ino], 0
                    first.setdefault(st.st_ino, rel)
                for x in os.listxattr(full, follow_symlinks=False):
                    ti.pax_headers["SCHILY.xattr." + x] = \
                        os.getxattr(full, x, follow_symlinks=False).decode()
                if ti.isreg():
                    with open(full, "rb") as f:
                        tf.addfile(ti, f)
                else:
                    tf.addfile(ti)
    return buf.getvalue()


def view(root: Path) -> tuple:
    """(path -> attributes, hardlink groups) of everything below root as the file system shows
    it. Groups are names that share an inode number (link counts differ: overlayfs shows the
    lower file's own, the root view the names that remain)."""
    out, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            full = Path(dirpath) / n
            rel = str(full.relative_to(root))
            st = os.lstat(full)
            e = {"fmt": stat.S_IFMT(st.st_mode), "perm": stat.S_IMODE(st.st_mode),
                 "uid": st.st_uid, "gid": st.st_gid, "mtime": st.st_mtime_ns}
            e["xattrs"] = {x: os.getxattr(full, x, follow_symlinks=False)
                           for x in os.listxattr(full, follow_symlinks=False)
                           if x.startswith("user.")}
            if stat.S_ISREG(st.st_mode):
                e["size"] = st.st_size
                e["sha"] = hashlib.sha256(full.read_bytes()).hexdigest()
                inodes.setdefault(st.st_ino, []).append(rel)
            elif stat.S_ISLNK(st.st_mode):
                e["target"] = os.readlink(full)
            if stat.S_ISDIR(st.st_mode):
                del e["mtime"]  # an overlay's merged directory and a view's may differ
            out[rel] = e
    groups = sorted(sorted(g) for g in inodes.values() if len(g) > 1)
    return out, groups


def assert_like_reference(ref_view, root: Path):
    want, want_groups = ref_view
    got, got_groups = view(root)
    problems = diff_dicts(want, got, "missing", "not in the reference", "{b} != reference {a}")
    assert not problems, "differs from overlayfs:\n  " + "\n  ".join(problems)
    assert got_groups == want_groups


def assert_groups(root: Path):
    """What the issue is about, spelled out, so that a failure names it."""
    assert (root / "a/perl5.36").read_bytes() == PERL, "a/perl5.36 lost its content"
    assert not (root / "a/perl").exists()
    st = os.stat(root / "a/perl5.36")
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_mtime) == \
        (0o751, 1000, 1001, MTIME)
    assert os.getxattr(root / "a/perl5.36", "user.origin") == b"perl"
    assert (root / "c/perl5.36").read_bytes() == b"old perl\n"
    assert (root / "c/perl").read_bytes() == b"new perl\n"
    assert os.getxattr(root / "c/perl5.36", "user.v") == b"old"
    assert not (root / "b/one").exists()
    two, three = os.stat(root / "b/two"), os.stat(root / "b/three")
    assert two.st_ino == three.st_ino, "the remaining names no longer share an inode"
    assert (root / "b/two").read_bytes() == (root / "b/three").read_bytes() == THREE
    assert stat.S_IMODE(two.st_mode) == 0o640 and two.st_gid == 1000
    return two


class Env:
    def __init__(self, base: Path):
        self.base = base
        self.reg = Registry(base / "registry").start()
        self.d = Dcfs(dcfs_binary(), Store(base / "store"))
        self.mounts = []
        self.folders = []
        layers = []
        for name, build in (("rootfs", busybox), ("l1", lower_layer), ("l2", upper_layer)):
            (base / name).mkdir()
            build(base / name)
            layers.append((oci_layer(base / name), OCI_LAYER))
        self.ref = f"{self.reg.host}/hl/img:1"
        config = {"architecture": "amd64", "os": "linux",
                  "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
                  "rootfs": {"type": "layers", "diff_ids": []}}
        self.reg.push_image("hl/img", "1", layers, config=config)
        self.d("pull", self.ref)

    def mount(self, ref, upper=None, d=None):
        mnt = Path(tempfile.mkdtemp(prefix="dcfs-hl-", dir=self.base))
        d = d or self.d
        self.mounts.append((mnt, d))
        args = ["mount", "--image", ref] + (["--upper", upper] if upper else [])
        d(*args, mnt, timeout=60)
        return mnt

    def reference(self):
        """The kernel's overlayfs of the extracted layers, read-only."""
        mnt = Path(tempfile.mkdtemp(prefix="ovl-hl-", dir=self.base))
        self.mounts.append((mnt, None))
        lower = ":".join(str(self.base / n) for n in ("l2", "l1", "rootfs"))
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower}",
                        str(mnt)], check=True)
        return mnt

    def folder(self, name, image, config=None):
        f = self.base / "ws" / name
        (f / ".devcontainer").mkdir(parents=True)
        (f / ".devcontainer" / "devcontainer.json").write_text(
            json.dumps(dict(config or {}, image=image)))
        self.folders.append(f)
        return f

    def close(self):
        for f in self.folders:
            self.d("rm", "-f", f, check=False, timeout=120)
        for m, d in reversed(self.mounts):
            if d:
                d("umount", m, check=False, timeout=60)
            umount(m)
        self.reg.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = Env(tmp_path_factory.mktemp("hardlinks"))
    try:
        yield e
    finally:
        e.close()


@pytest.fixture(scope="module")
def reference(env):
    """(the overlayfs reference mount, its view)."""
    mnt = env.reference()
    assert_groups(mnt)  # the reference itself shows what the tests expect
    return mnt, view(mnt)


def test_whited_out_first_name_keeps_content_in_the_view(env, reference):
    """(a) a/perl whited out: a/perl5.36 reads back its content, mode, owner, times, xattrs.
    A hardlinked symlink (d/s1 whited out) stays a symlink."""
    links = {r["path"]: r["target"] for r in env.d.store.query(
        "SELECT path, target FROM entries WHERE type = 'h'")}
    assert links == {"a/perl5.36": "a/perl", "b/three": "b/one", "b/two": "b/one",
                     "c/perl5.36": "c/perl", "d/s2": "d/s1"}, "the layers are not as meant"
    mnt = env.mount(env.ref)
    assert_groups(mnt)
    assert os.stat(mnt / "a/perl5.36").st_nlink == 1
    assert os.readlink(mnt / "d/s2") == "../a/perl5.36" and not os.path.lexists(mnt / "d/s1")
    assert_like_reference(reference[1], mnt)


def test_replaced_first_name_keeps_old_content(env, reference):
    """(b) c/perl replaced by another file: c/perl5.36 keeps the old inode."""
    mnt = env.mount(env.ref)
    old, new = os.stat(mnt / "c/perl5.36"), os.stat(mnt / "c/perl")
    assert old.st_ino != new.st_ino
    assert (old.st_size, stat.S_IMODE(old.st_mode), old.st_nlink) == (9, 0o755, 1)
    assert (mnt / "c/perl5.36").read_bytes() == b"old perl\n"
    assert (mnt / "c/perl").read_bytes() == b"new perl\n"
    assert "user.v" not in os.listxattr(mnt / "c/perl")


def test_remaining_names_share_one_inode(env, reference):
    """(c) b/one of three names whited out: b/two and b/three are one inode with 2 links."""
    mnt = env.mount(env.ref)
    two = assert_groups(mnt)
    assert two.st_nlink == 2
    assert os.stat(mnt / "b/three").st_nlink == 2
    # the same through a readdir (the listing carries the inode the lookup gives)
    inos = {e.name: e.inode() for e in os.scandir(mnt / "b")}
    assert inos["two"] == inos["three"] == two.st_ino


def test_container_root_overlay(env, reference):
    """(a-c) through a container root (the view under an overlay with an upper folder)."""
    upper = env.base / "c1" / "upper"
    mnt = env.mount(env.ref, upper=upper)
    assert_groups(mnt)
    assert_like_reference(reference[1], mnt)
    assert not any(upper.iterdir()), "reading copied something up"


@needs_runc
def test_real_container_reads_the_content(env, reference):
    folder = env.folder("reader", env.ref)
    env.d("up", folder, timeout=120)
    out = env.d("exec", folder, "--", "sh", "-c",
                "sha256sum /a/perl5.36; cat /c/perl5.36 /b/two; stat -c '%i %h' /b/two /b/three;"
                " test ! -e /a/perl && test ! -e /b/one && echo gone").stdout.splitlines()
    assert out[0].split()[0] == hashlib.sha256(PERL).hexdigest()
    assert out[1] == "old perl" and out[2] == THREE.decode().strip()
    (ino2, n2), (ino3, n3) = out[3].split(), out[4].split()
    assert ino2 == ino3 and n2 == n3 == "2"
    assert out[5] == "gone"


def test_push_and_pull_back(env, reference):
    """(e) the three layers pushed to another repository and pulled into another store give
    the same files."""
    other = f"{env.reg.host}/hl/copy:1"
    env.d("push", env.ref, other, timeout=120)
    d2 = Dcfs(dcfs_binary(), Store(env.base / "store2"))
    d2("pull", other)
    mnt = env.mount(other, d=d2)
    assert_groups(mnt)
    assert_like_reference(reference[1], mnt)


SNAP_EDITS = "rm /usr/bin/perl /c/1 /b/x && chmod 0700 /b/y"


@needs_runc
def test_snapshot_after_removing_a_first_name(env):
    """(d) a prebuild's container removes usr/bin/perl (the first name) and keeps perl5.36; its
    snapshot's view, the container `up` then starts from it, and the snapshot pushed and pulled
    into another store keep perl5.36's content. Also a group of three (c/1 removed: c/2 and c/3
    one inode) and a copied-up survivor (b/y, chmod after b/x was removed)."""
    root = env.base / "snaproot"
    busybox(root)
    put(root, "usr/bin/perl", PERL, 0o755, (0, 0), {"user.origin": b"perl"})
    os.link(root / "usr/bin/perl", root / "usr/bin/perl5.36")
    put(root, "c/1", THREE, 0o644)
    os.link(root / "c/1", root / "c/2")
    os.link(root / "c/1", root / "c/3")
    put(root, "b/x", b"xy\n", 0o644)
    os.link(root / "b/x", root / "b/y")
    env.d("import", root, "hl/base:1")
    folder = env.folder("snap", "hl/base:1", {"onCreateCommand": SNAP_EDITS})
    snap = env.d("prebuild", folder, timeout=120).stdout.split()[1].rstrip(":")
    # the snapshot's layer: a whiteout for the first name, nothing for the untouched others
    layer = env.d.store.query(
        "SELECT e.path, e.type FROM images i JOIN image_layers il ON il.image_id = i.id"
        " JOIN entries e ON e.layer_id = il.layer_id WHERE i.ref = ? AND il.pos = 1"
        " AND e.path IN ('usr/bin/perl', 'usr/bin/perl5.36', 'c/1', 'c/2', 'b/x', 'b/y')",
        (snap,))
    assert {r["path"]: r["type"] for r in layer} == {"usr/bin/perl": "w", "c/1": "w",
                                                     "b/x": "w", "b/y": "f"}

    def check(r: Path):
        assert not (r / "usr/bin/perl").exists()
        assert (r / "usr/bin/perl5.36").read_bytes() == PERL
        assert os.getxattr(r / "usr/bin/perl5.36", "user.origin") == b"perl"
        assert stat.S_IMODE(os.stat(r / "usr/bin/perl5.36").st_mode) == 0o755
        c2, c3 = os.stat(r / "c/2"), os.stat(r / "c/3")
        assert c2.st_ino == c3.st_ino and c2.st_nlink == 2
        assert (r / "c/2").read_bytes() == (r / "c/3").read_bytes() == THREE
        assert (r / "b/y").read_bytes() == b"xy\n"
        assert stat.S_IMODE(os.stat(r / "b/y").st_mode) == 0o700

    check(env.mount(snap))
    p = env.d("up", folder, timeout=120)
    assert f"starting from snapshot {snap}" in p.stdout
    out = env.d("exec", folder, "--", "sh", "-c",
                "sha256sum /usr/bin/perl5.36; cat /c/3; stat -c '%i %h' /c/2 /c/3;"
                " test ! -e /usr/bin/perl && echo gone").stdout.splitlines()
    assert out[0].split()[0] == hashlib.sha256(PERL).hexdigest()
    assert out[1] == THREE.decode().strip()
    (i2, n2), (i3, n3) = out[2].split(), out[3].split()
    assert i2 == i3 and n2 == n3 == "2"
    assert out[4] == "gone"
    # (e) the snapshot's layers as dcfs writes them, pulled back elsewhere
    pushed = f"{env.reg.host}/hl/snap:1"
    env.d("push", snap, pushed, timeout=120)
    d3 = Dcfs(dcfs_binary(), Store(env.base / "store3"))
    d3("pull", pushed)
    check(env.mount(pushed, d=d3))
