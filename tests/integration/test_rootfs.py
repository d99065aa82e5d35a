"""The root filesystem view (`dcfs mount --image`) and container roots (`--upper`): the view
serves exactly what was imported, and an overlay over it behaves like the same tree unpacked on
ext4 under overlayfs."""
import errno
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOTFS_SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "make-busybox-rootfs.sh"


def is_mount(path) -> bool:
    return subprocess.run(["mountpoint", "-q", str(path)]).returncode == 0


def umount_all(*paths):
    for p in paths:
        for _ in range(3):
            if not is_mount(p):
                break
            subprocess.run(["umount", "-l", str(p)], capture_output=True)


@pytest.fixture
def rich_tree(tree):
    """A busybox root plus every kind of entry a root filesystem holds."""
    t = tree("rootfs")
    subprocess.run(["bash", str(ROOTFS_SCRIPT), str(t.root)], check=True, capture_output=True)
    t.file("etc/motd", b"welcome\n", xattrs={"user.note": b"hello"})
    t.file("usr/share/big.bin", os.urandom(3 * 1024 * 1024 + 17))
    t.file("usr/share/empty")
    t.file("usr/lib/libx.so.1", b"\x7fELF" + b"x" * 70000, mode=0o755)
    t.hardlink("usr/lib/libx-link.so", "usr/lib/libx.so.1")
    t.symlink("usr/lib/libx.so", "libx.so.1")
    t.symlink("usr/dangling", "/nowhere/at/all")
    t.sparse("var/sparse.img", 32 * 1024 * 1024, {0: b"head", 20 * 1024 * 1024: b"middle"})
    t.fifo("run/fifo")
    t.chardev("dev/null", 1, 3)
    t.dir("opt/secret", mode=0o700)
    t.file("opt/secret/key", b"k", mode=0o600)
    t.file("opt/setuid", b"#!/bin/sh\n", mode=0o4755)
    for i in range(50):
        t.file(f"usr/share/doc/f{i:03d}.txt", (f"doc {i}\n" * (i + 1)).encode())
    return t


@pytest.fixture
def mounted(dcfs, tmp_path):
    """mount(ref, mnt, upper=None) -> mount point; unmounted at teardown. Mount points are in a
    folder every user can enter (pytest's own are 0700), for the tests run as another user."""
    mounts = []
    public = Path(tempfile.mkdtemp(prefix="dcfs-rootfs-"))
    public.chmod(0o755)

    def mount(ref, mnt=None, upper=None, check=True):
        mnt = Path(mnt or public / f"mnt{len(mounts)}")
        mnt.mkdir(parents=True, exist_ok=True)
        args = ["mount", "--image", ref]
        if upper:
            args += ["--upper", str(upper)]
        p = dcfs(*args, mnt, check=check, timeout=60)
        mounts.append(mnt)
        return mnt if p.returncode == 0 else p

    yield mount
    for m in mounts:
        dcfs("umount", m, check=False, timeout=60)
        umount_all(m)
    shutil.rmtree(public, ignore_errors=True)


def listing(root: Path, mtimes=True):
    """`find -ls` without the fields that legitimately differ between file systems (inode
    numbers, allocated blocks, directory sizes, access and change times); without any times
    when `mtimes` is false (after writes made at different instants)."""
    out = subprocess.run(
        ["find", ".", "-printf", "%p %y %m %n %U %G %s %T@ %l\\n"], cwd=root, check=True,
        capture_output=True, text=True).stdout.splitlines()
    rows = []
    for line in sorted(out):
        parts = line.split(" ")
        if parts[1] == "d":
            parts[6] = "-"  # directory sizes depend on the file system
        if not mtimes:
            parts[7] = "-"
        rows.append(" ".join(parts))
    return rows


def digests(root: Path):
    res = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            if p.is_symlink() or not p.is_file():
                continue
            res[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return res


def test_view_serves_the_imported_tree(dcfs, rich_tree, mounted):
    dcfs("import", rich_tree.root, "rich")
    mnt = mounted("rich")
    assert is_mount(mnt)
    assert listing(mnt) == listing(rich_tree.root)
    assert digests(mnt) == digests(rich_tree.root)
    # xattrs, hardlinks and devices come through
    assert os.getxattr(mnt / "etc/motd", "user.note") == b"hello"
    a, b = os.stat(mnt / "usr/lib/libx.so.1"), os.stat(mnt / "usr/lib/libx-link.so")
    assert a.st_ino == b.st_ino and a.st_nlink == 2
    assert stat.S_ISCHR(os.lstat(mnt / "dev/null").st_mode)
    assert os.major(os.lstat(mnt / "dev/null").st_rdev) == 1
    assert os.readlink(mnt / "usr/dangling") == "/nowhere/at/all"
    # holes read as zeros at the right places
    with open(mnt / "var/sparse.img", "rb") as f:
        assert f.read(4) == b"head"
        f.seek(20 * 1024 * 1024)
        assert f.read(6) == b"middle"
        f.seek(10 * 1024 * 1024)
        assert f.read(4096) == bytes(4096)


def test_view_is_read_only(dcfs, rich_tree, mounted):
    dcfs("import", rich_tree.root, "rich")
    mnt = mounted("rich")
    for action in (lambda: open(mnt / "etc/motd", "w"),
                   lambda: open(mnt / "newfile", "w"),
                   lambda: os.mkdir(mnt / "newdir"),
                   lambda: os.unlink(mnt / "etc/motd"),
                   lambda: os.chmod(mnt / "etc/motd", 0o600)):
        with pytest.raises(OSError) as err:
            action()
        assert err.value.errno == errno.EROFS


def test_other_users_read_through_allow_other(dcfs, rich_tree, mounted):
    dcfs("import", rich_tree.root, "rich")
    mnt = mounted("rich")
    as_user = ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]
    ok = subprocess.run(as_user + ["cat", str(mnt / "etc/motd")], capture_output=True)
    assert ok.returncode == 0 and ok.stdout == b"welcome\n"
    denied = subprocess.run(as_user + ["cat", str(mnt / "opt/secret/key")], capture_output=True)
    assert denied.returncode != 0 and b"Permission denied" in denied.stderr


def test_container_root_behaves_like_overlay_on_ext4(dcfs, rich_tree, mounted, tmp_path):
    dcfs("import", rich_tree.root, "rich")
    upper = tmp_path / "c1" / "upper"
    # the same tree unpacked on ext4, under the kernel's overlayfs
    ref_upper, ref_work, ref_mnt = (tmp_path / "ref" / n for n in ("upper", "work", "mnt"))
    for d in (ref_upper, ref_work, ref_mnt, upper):
        d.mkdir(parents=True)
    # an overlay's root takes its upper directory's attributes: make both uppers alike
    root_st = os.stat(rich_tree.root)
    for d in (upper, ref_upper):
        os.chmod(d, 0o755)
        os.utime(d, ns=(root_st.st_atime_ns, root_st.st_mtime_ns))
    mnt = mounted("rich", upper=upper)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    f"lowerdir={rich_tree.root},upperdir={ref_upper},workdir={ref_work}",
                    str(ref_mnt)], check=True)
    try:
        assert listing(mnt) == listing(ref_mnt)
        assert digests(mnt) == digests(ref_mnt)
        for root in (mnt, ref_mnt):
            (root / "etc/motd").write_bytes(b"changed\n")          # copy-up
            (root / "home/new.txt").write_bytes(b"new\n")           # create
            os.unlink(root / "usr/share/doc/f001.txt")               # whiteout
            os.rename(root / "usr/share/doc/f002.txt", root / "f002.txt")
            os.chmod(root / "usr/share/big.bin", 0o600)              # metadata copy-up
            subprocess.run(["rm", "-rf", str(root / "opt/secret")], check=True)  # dir whiteout
            os.mkdir(root / "opt/secret")                             # opaque dir
        assert listing(mnt, mtimes=False) == listing(ref_mnt, mtimes=False)
        assert digests(mnt) == digests(ref_mnt)
        # the changes landed in the upper directory, as in the reference
        assert listing(upper, mtimes=False) == listing(ref_upper, mtimes=False)
        wh = os.lstat(upper / "usr/share/doc/f001.txt")
        assert stat.S_ISCHR(wh.st_mode) and wh.st_rdev == 0
        assert (upper / "etc/motd").read_bytes() == b"changed\n"
        assert not (upper / "usr/share/doc/f003.txt").exists()  # untouched files are not copied
        # the store was not touched by the writes
        assert dcfs("fsck").returncode == 0
    finally:
        umount_all(ref_mnt)


def test_umount_ends_the_daemon_and_the_overlay(dcfs, rich_tree, tmp_path):
    dcfs("import", rich_tree.root, "rich")
    mnt, upper = tmp_path / "m", tmp_path / "c" / "upper"
    mnt.mkdir()
    dcfs("mount", "--image", "rich", "--upper", upper, mnt)
    daemons = lambda: subprocess.run(["pgrep", "-f", f"mount --image rich --upper {upper}"],
                                     capture_output=True, text=True).stdout.split()
    assert daemons()
    dcfs("umount", mnt)
    assert not is_mount(mnt)
    for _ in range(50):
        if not daemons():
            break
        time.sleep(0.1)
    assert not daemons(), "the daemon outlived its mount"
    hidden = [l for l in Path("/proc/self/mountinfo").read_text().splitlines() if str(dcfs.store.path) in l]
    assert not hidden, f"a hidden lower mount stayed: {hidden}"


def test_kill_9_leaves_a_mount_that_umount_and_mount_clear(dcfs, rich_tree, tmp_path):
    dcfs("import", rich_tree.root, "rich")
    mnt = tmp_path / "m"
    mnt.mkdir()
    dcfs("mount", "--image", "rich", mnt)
    pid = subprocess.run(["pgrep", "-f", f"mount --image rich {mnt}"], capture_output=True,
                         text=True).stdout.split()
    assert pid
    for p in pid:
        os.kill(int(p), signal.SIGKILL)
    time.sleep(0.3)
    with pytest.raises(OSError) as err:
        os.stat(mnt / "etc")
    # ECONNABORTED over io_uring (the request was queued when the connection ended)
    assert err.value.errno in (errno.ENOTCONN, errno.ECONNABORTED)
    dcfs("umount", mnt)
    assert not is_mount(mnt)
    # kill again, and let the next mount clear the stale one by itself
    dcfs("mount", "--image", "rich", mnt)
    for p in subprocess.run(["pgrep", "-f", f"mount --image rich {mnt}"], capture_output=True,
                            text=True).stdout.split():
        os.kill(int(p), signal.SIGKILL)
    time.sleep(0.3)
    dcfs("mount", "--image", "rich", mnt)
    try:
        assert (mnt / "etc/motd").read_bytes() == b"welcome\n"
    finally:
        dcfs("umount", mnt)


def test_corrupt_chunk_is_never_served(dcfs, store, tree, mounted):
    t = tree("t")
    payload = os.urandom(2 * 1024 * 1024)
    t.file("big", payload)
    t.file("small", b"fine\n")
    dcfs("import", t.root, "c")
    # damage the first chunk of "big" before anything has read it
    row = store.query(
        "SELECT hex(c.hash) AS h FROM entries e JOIN extents x ON x.blob_id = e.blob_id"
        " JOIN chunks c ON c.id = x.chunk_id WHERE e.path = 'big' ORDER BY x.file_off LIMIT 1")[0]
    victim = row["h"].lower()
    path = store.chunk_path(victim)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    mnt = mounted("c")
    assert (mnt / "small").read_bytes() == b"fine\n"
    with pytest.raises(OSError) as err:
        (mnt / "big").read_bytes()
    assert err.value.errno == errno.EIO
    assert (store.path / "quarantine" / victim).exists()
    assert not path.exists()
    p = dcfs("fsck", check=1)
    assert victim in p.stdout


def test_rmi_of_a_mounted_image_is_refused(dcfs, rich_tree, mounted):
    dcfs("import", rich_tree.root, "rich")
    mnt = mounted("rich")
    p = dcfs("rmi", "rich", check=1)
    assert "in use" in p.stderr and len(p.stderr.splitlines()) == 1
    assert dcfs.images() == ["rich:latest"]
    assert (mnt / "etc/motd").read_bytes() == b"welcome\n"


def test_mount_errors(dcfs, tmp_path):
    mnt = tmp_path / "m"
    mnt.mkdir()
    p = dcfs("mount", "--image", "nosuch", mnt, check=1)
    assert "no such image" in p.stderr and len(p.stderr.splitlines()) == 1
    assert dcfs("mount", mnt, check=2).returncode == 2
    assert dcfs("mount", "--image", "x", "--workspace", "/tmp", mnt, check=2).returncode == 2
    p = dcfs("umount", tmp_path / "not-mounted", check=1)
    assert p.stderr.startswith("dcfs: umount:")
