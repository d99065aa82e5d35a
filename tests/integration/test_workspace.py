"""The workspace view: `dcfs mount --workspace HOSTDIR MNT` serves a host folder through FUSE.

Each test mounts a fresh temporary host folder with the real dcfs binary ($DCFS_BIN), runs real
system calls against the mount point as root and as uid 1000, and unmounts in the fixture's
teardown. Needs root and /dev/fuse (skipped otherwise).
"""
import contextlib
import ctypes
import errno
import hashlib
import mmap
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import mounted_at
from posix_battery import call_as

DCFS = os.environ.get("DCFS_BIN", "dcfs")
UID = 1000
GID = 1000

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="needs /dev/fuse"),
]


# ---- helpers ----------------------------------------------------------------------------------


def eventually(check, timeout=10.0, interval=0.02):
    """Call check() until it returns without an AssertionError/OSError, or re-raise at timeout.

    Host-side changes reach the kernel through inotify, asynchronously: a few milliseconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)


def as_user(fn, *args, uid=UID, gid=GID, groups=()):
    """Run fn(*args) in a forked child as uid/gid; return its result or raise its exception."""
    ok, value = call_as((uid, gid, groups), fn, *args)
    if not ok:
        raise value
    return value


def walk_counts(root):
    """bytes and files as the catalog defines them: regular files on the folder's device,
    st_size summed once per inode (hardlinks once), files = distinct inodes."""
    dev = os.lstat(root).st_dev
    seen = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in list(dirnames):
            if os.lstat(os.path.join(dirpath, d)).st_dev != dev:
                dirnames.remove(d)
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            if stat.S_ISREG(st.st_mode) and st.st_dev == dev:
                seen[st.st_ino] = st.st_size
    return sum(seen.values()), len(seen)


def sha256_file(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                return h.hexdigest()
            h.update(b)


_libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2


def renameat2(old, new, flags):
    if _libc.renameat2(AT_FDCWD, os.fsencode(old), AT_FDCWD, os.fsencode(new), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), old)


def daemon_pids(mnt, host):
    """The dcfs processes serving `host` at `mnt` (found by their exact command line)."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if os.fsencode(mnt) in argv and os.fsencode(host) in argv:
            pids.append(int(p))
    return pids


class Workspace:
    def __init__(self, base):
        self.host = os.path.join(base, "host")
        self.mnt = os.path.join(base, "mnt")
        self.store = os.path.join(base, "store")
        os.mkdir(self.host, 0o755)
        os.mkdir(self.mnt, 0o755)

    def h(self, *p):
        return os.path.join(self.host, *p)

    def m(self, *p):
        return os.path.join(self.mnt, *p)

    def mount(self):
        subprocess.run([DCFS, "--store", self.store, "mount", "--workspace", self.host, self.mnt],
                       check=True, timeout=60)
        assert os.path.ismount(self.mnt)

    def umount(self):
        subprocess.run([DCFS, "umount", self.mnt], check=True, timeout=60)
        assert not os.path.ismount(self.mnt)

    def wait_daemons_gone(self, timeout=10):
        deadline = time.monotonic() + timeout
        while daemon_pids(self.mnt, self.host) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not daemon_pids(self.mnt, self.host)

    def row(self):
        db = sqlite3.connect(os.path.join(self.store, "catalog.db"))
        try:
            return db.execute("SELECT bytes, files, in_use FROM workspaces WHERE path = ?",
                              (os.path.realpath(self.host),)).fetchone()
        finally:
            db.close()

    def assert_row_matches_walk(self, in_use=1, timeout=5):
        def check():
            row = self.row()
            assert row is not None
            assert row == (*walk_counts(self.host), in_use)
        eventually(check, timeout=timeout)


@pytest.fixture
def ws():
    # not pytest's tmp_path: its parents are 0700, and uid 1000 must reach the mount point
    base = tempfile.mkdtemp(prefix="dcfs-ws-", dir="/tmp")
    os.chmod(base, 0o755)
    w = Workspace(base)
    w.mount()
    try:
        yield w
    finally:
        with contextlib.suppress(Exception):
            subprocess.run([DCFS, "umount", w.mnt], timeout=60)
        if mounted_at(w.mnt):
            subprocess.run(["umount", "-l", w.mnt])
        w.wait_daemons_gone()
        if not mounted_at(w.mnt):
            shutil.rmtree(base, ignore_errors=True)


# ---- POSIX behaviour as root ------------------------------------------------------------------


def test_create_read_write_unlink(ws):
    with open(ws.m("a.txt"), "w") as f:
        f.write("hello\n")
    with open(ws.h("a.txt")) as f:
        assert f.read() == "hello\n"
    with open(ws.m("a.txt")) as f:
        assert f.read() == "hello\n"
    os.mkdir(ws.m("d"))
    assert os.path.isdir(ws.h("d"))
    assert sorted(os.listdir(ws.mnt)) == ["a.txt", "d"]
    os.unlink(ws.m("a.txt"))
    assert not os.path.exists(ws.h("a.txt"))
    assert not os.path.exists(ws.m("a.txt"))
    os.rmdir(ws.m("d"))
    assert os.listdir(ws.mnt) == []


def test_rename(ws):
    for name, text in (("a", "A"), ("b", "B")):
        with open(ws.m(name), "w") as f:
            f.write(text)
    os.rename(ws.m("a"), ws.m("b"))  # over an existing file
    assert open(ws.m("b")).read() == "A"
    assert not os.path.exists(ws.m("a")) and not os.path.exists(ws.h("a"))
    os.makedirs(ws.m("x", "y"))
    os.rename(ws.m("b"), ws.m("x", "y", "c"))  # across folders
    assert open(ws.h("x", "y", "c")).read() == "A"
    os.rename(ws.m("x"), ws.m("z"))  # a folder with contents
    assert open(ws.m("z", "y", "c")).read() == "A"
    with open(ws.m("z", "other"), "w") as f:
        f.write("O")
    with pytest.raises(FileExistsError):
        renameat2(ws.m("z", "other"), ws.m("z", "y", "c"), RENAME_NOREPLACE)
    renameat2(ws.m("z", "other"), ws.m("z", "y", "c"), RENAME_EXCHANGE)
    assert open(ws.m("z", "other")).read() == "A"
    assert open(ws.m("z", "y", "c")).read() == "O"
    assert open(ws.h("z", "y", "c")).read() == "O"


def test_link_and_symlink(ws):
    with open(ws.m("f"), "w") as f:
        f.write("data")
    os.link(ws.m("f"), ws.m("hard"))
    assert os.stat(ws.m("f")).st_nlink == 2
    assert os.stat(ws.h("hard")).st_ino == os.stat(ws.h("f")).st_ino
    os.symlink("f", ws.m("soft"))
    assert os.readlink(ws.m("soft")) == "f"
    assert os.readlink(ws.h("soft")) == "f"
    assert open(ws.m("soft")).read() == "data"
    os.symlink("dangling", ws.m("soft2"))
    os.link(ws.m("soft2"), ws.m("soft2-hard"), follow_symlinks=False)
    assert os.readlink(ws.m("soft2-hard")) == "dangling"
    os.unlink(ws.m("f"))
    assert open(ws.m("hard")).read() == "data"
    assert os.stat(ws.m("hard")).st_nlink == 1


def test_chmod_chown_truncate_utimens(ws):
    p = ws.m("f")
    with open(p, "w") as f:
        f.write("0123456789")
    os.chmod(p, 0o640)
    assert stat.S_IMODE(os.stat(ws.h("f")).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o640
    os.chown(p, 1234, 5678)
    st = os.stat(ws.h("f"))
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    assert (os.stat(p).st_uid, os.stat(p).st_gid) == (1234, 5678)
    os.truncate(p, 4)
    assert os.path.getsize(ws.h("f")) == 4 and os.path.getsize(p) == 4
    with open(p, "r+") as f:
        f.truncate(100)
    assert os.path.getsize(ws.h("f")) == 100
    os.utime(p, ns=(1_000_000_123, 2_000_000_456))
    st = os.stat(ws.h("f"))
    assert (st.st_atime_ns, st.st_mtime_ns) == (1_000_000_123, 2_000_000_456)
    assert os.stat(p).st_mtime_ns == 2_000_000_456
    os.symlink("f", ws.m("l"))
    os.utime(ws.m("l"), ns=(3_000_000_000, 4_000_000_000), follow_symlinks=False)
    assert os.lstat(ws.h("l")).st_mtime_ns == 4_000_000_000
    assert os.stat(ws.h("f")).st_mtime_ns == 2_000_000_456


def test_xattrs(ws):
    p = ws.m("f")
    open(p, "w").close()
    os.setxattr(p, "user.color", b"blue")
    assert os.getxattr(p, "user.color") == b"blue"
    assert os.getxattr(ws.h("f"), "user.color") == b"blue"
    assert "user.color" in os.listxattr(p)
    with pytest.raises(FileExistsError):
        os.setxattr(p, "user.color", b"red", os.XATTR_CREATE)
    os.setxattr(ws.h("f"), "user.size", b"x" * 1000)
    assert os.getxattr(p, "user.size") == b"x" * 1000
    os.removexattr(p, "user.color")
    with pytest.raises(OSError) as e:
        os.getxattr(p, "user.color")
    assert e.value.errno == errno.ENODATA
    assert "user.color" not in os.listxattr(ws.h("f"))


def test_append_and_excl(ws):
    p = ws.m("log")
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b"one\n")
    os.close(fd)
    with pytest.raises(FileExistsError):
        os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    fd = os.open(p, os.O_WRONLY | os.O_APPEND)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, b"two\n")
    os.close(fd)
    fd2 = os.open(p, os.O_RDWR | os.O_APPEND)
    os.write(fd2, b"three\n")
    os.close(fd2)
    assert open(ws.h("log"), "rb").read() == b"one\ntwo\nthree\n"
    # a write-only file can still be written (the writeback cache reads it behind our back)
    os.chmod(p, 0o200)
    fd = os.open(p, os.O_WRONLY)
    os.pwrite(fd, b"O", 0)
    os.close(fd)
    os.chmod(p, 0o644)
    assert open(ws.m("log"), "rb").read() == b"One\ntwo\nthree\n"


def test_mmap(ws):
    p = ws.m("map")
    with open(p, "wb") as f:
        f.write(b"\0" * 8192)
    with open(p, "r+b") as f:
        m = mmap.mmap(f.fileno(), 8192)
        m[0:5] = b"hello"
        m[4096:4101] = b"world"
        m.flush()
        m.close()
    data = open(ws.h("map"), "rb").read()
    assert data[0:5] == b"hello" and data[4096:4101] == b"world"
    with open(p, "rb") as f:
        m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        assert m[4096:4101] == b"world"
        m.close()


def test_sparse_seek_data_hole(ws):
    p = ws.m("sparse")
    with open(p, "wb") as f:
        f.seek(1 << 20)
        f.write(b"data")
        f.seek(4 << 20)
        f.write(b"end")
    st = os.stat(ws.h("sparse"))
    assert st.st_size == (4 << 20) + 3
    assert st.st_blocks * 512 < 1 << 20  # still sparse on the host
    fd = os.open(p, os.O_RDONLY)
    try:
        assert os.lseek(fd, 0, os.SEEK_DATA) == 1 << 20
        assert os.lseek(fd, 1 << 20, os.SEEK_HOLE) > 1 << 20
        assert os.lseek(fd, 0, os.SEEK_HOLE) == 0
        assert os.pread(fd, 4, 1 << 20) == b"data"
        assert os.pread(fd, 4, 2 << 20) == b"\0\0\0\0"
    finally:
        os.close(fd)
    fd = os.open(p, os.O_RDWR)
    os.posix_fallocate(fd, 0, 8 << 20)
    os.close(fd)
    assert os.path.getsize(ws.h("sparse")) == 8 << 20


def test_copy_file_range(ws):
    with open(ws.m("src"), "wb") as f:
        f.write(os.urandom(300000))
    fi = os.open(ws.m("src"), os.O_RDONLY)
    fo = os.open(ws.m("dst"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        left = 300000
        while left:
            n = os.copy_file_range(fi, fo, left)
            assert n > 0
            left -= n
    finally:
        os.close(fi)
        os.close(fo)
    assert sha256_file(ws.h("dst")) == sha256_file(ws.h("src"))


def test_big_file_roundtrip(ws):
    size = 200 << 20
    block = os.urandom(1 << 20)
    h = hashlib.sha256()
    with open(ws.m("big"), "wb") as f:
        for i in range(size >> 20):
            b = block[i:] + block[:i]
            h.update(b)
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    assert os.path.getsize(ws.h("big")) == size
    assert sha256_file(ws.h("big")) == h.hexdigest()
    assert sha256_file(ws.m("big")) == h.hexdigest()


def test_devcontainer_config_folder(ws):
    os.makedirs(ws.m(".devcontainer", "config"))
    with open(ws.m(".devcontainer", "config", "settings.json"), "w") as f:
        f.write("{}")
    assert open(ws.h(".devcontainer", "config", "settings.json")).read() == "{}"
    os.makedirs(ws.h(".devcontainer", "config", "from-host"))
    eventually(lambda: os.stat(ws.m(".devcontainer", "config", "from-host")))


# ---- as an unprivileged user -------------------------------------------------------------------


def test_unprivileged_ownership_and_denials(ws):
    os.chmod(ws.mnt, 0o777)
    os.mkdir(ws.m("secret"), 0o700)
    with open(ws.m("secret", "x"), "w") as f:
        f.write("x")
    with open(ws.m("rootfile"), "w") as f:
        f.write("root")
    os.chmod(ws.m("rootfile"), 0o644)

    def user_work(m):
        with open(os.path.join(m, "mine"), "w") as f:
            f.write("mine")
        os.mkdir(os.path.join(m, "mydir"))
        os.symlink("mine", os.path.join(m, "mylink"))
        os.rename(os.path.join(m, "mine"), os.path.join(m, "mydir", "mine"))
        os.chmod(os.path.join(m, "mydir", "mine"), 0o600)
        return open(os.path.join(m, "rootfile")).read()

    assert as_user(user_work, ws.mnt) == "root"
    for name in ("mydir", "mydir/mine", "mylink"):
        st = os.lstat(ws.h(name))
        assert (st.st_uid, st.st_gid) == (UID, GID), name
    assert stat.S_IMODE(os.stat(ws.h("mydir", "mine")).st_mode) == 0o600

    def denied(fn, *args):
        try:
            fn(*args)
        except PermissionError:
            return True
        return False

    assert as_user(denied, os.listdir, ws.m("secret"))
    assert as_user(denied, os.stat, ws.m("secret", "x"))
    assert as_user(denied, lambda p: open(p, "a"), ws.m("rootfile"))
    assert as_user(denied, os.truncate, ws.m("rootfile"), 0)
    assert as_user(denied, os.chmod, ws.m("rootfile"), 0o666)
    assert as_user(denied, os.chown, ws.m("mydir", "mine"), 0, 0)
    assert as_user(denied, os.unlink, ws.m("secret", "x"))
    assert open(ws.h("rootfile")).read() == "root"
    # a sticky folder: uid 1000 cannot remove root's file in it
    os.mkdir(ws.m("tmp"))
    os.chmod(ws.m("tmp"), 0o1777)
    open(ws.m("tmp", "roots"), "w").close()
    assert as_user(denied, os.unlink, ws.m("tmp", "roots"))
    as_user(lambda p: open(p, "w").close(), ws.m("tmp", "users"))
    as_user(os.unlink, ws.m("tmp", "users"))


def test_unprivileged_supplementary_group(ws):
    os.mkdir(ws.m("team"))
    os.chown(ws.m("team"), 0, 4242)
    os.chmod(ws.m("team"), 0o770)

    def create(p):
        with open(p, "w") as f:
            f.write("t")
        os.chown(p, -1, 4242)  # to a group the caller is in
        return os.stat(p).st_gid

    assert as_user(create, ws.m("team", "f"), groups=(4242,)) == 4242
    st = os.stat(ws.h("team", "f"))
    assert (st.st_uid, st.st_gid) == (UID, 4242)


# ---- host-side changes under long cache timeouts ------------------------------------------------


def test_host_side_changes_are_visible(ws):
    with open(ws.h("f"), "w") as f:
        f.write("one")
    os.mkdir(ws.h("d"))
    # let the kernel cache everything: entries, attributes, data, a negative entry
    assert open(ws.m("f")).read() == "one"
    assert os.listdir(ws.m("d")) == []
    assert not os.path.exists(ws.m("later"))

    with open(ws.h("f"), "w") as f:
        f.write("two, longer")
    eventually(lambda: _assert_eq(open(ws.m("f")).read(), "two, longer"))
    eventually(lambda: _assert_eq(os.stat(ws.m("f")).st_size, 11))

    with open(ws.h("later"), "w") as f:
        f.write("new")
    eventually(lambda: _assert_eq(open(ws.m("later")).read(), "new"))

    os.rename(ws.h("later"), ws.h("d", "moved"))
    eventually(lambda: _assert_eq(os.listdir(ws.m("d")), ["moved"]))
    eventually(lambda: _assert_eq(os.path.exists(ws.m("later")), False))

    os.chmod(ws.h("f"), 0o600)
    eventually(lambda: _assert_eq(stat.S_IMODE(os.stat(ws.m("f")).st_mode), 0o600))

    os.unlink(ws.h("f"))
    eventually(lambda: _assert_eq(os.path.exists(ws.m("f")), False))
    eventually(lambda: _assert_eq(sorted(os.listdir(ws.mnt)), ["d"]))

    os.makedirs(ws.h("d", "deep", "er"))
    with open(ws.h("d", "deep", "er", "x"), "w") as f:
        f.write("x")
    eventually(lambda: _assert_eq(open(ws.m("d", "deep", "er", "x")).read(), "x"))

    # the inode number of a deleted file coming back for a new one
    for i in range(20):
        with open(ws.h(f"r{i}"), "w") as f:
            f.write(f"old{i}")
        assert open(ws.m(f"r{i}")).read() == f"old{i}"
        os.unlink(ws.h(f"r{i}"))
        with open(ws.h(f"r{i}"), "w") as f:
            f.write(f"new{i}")
        eventually(lambda: _assert_eq(open(ws.m(f"r{i}")).read(), f"new{i}"))


def _assert_eq(a, b):
    assert a == b, (a, b)


# ---- crashes -----------------------------------------------------------------------------------


def _wait_dead(pid, timeout=10):
    """Wait until `pid` is gone, or a zombie whose other threads are gone too: its descriptors
    (/dev/fuse) are closed then, and the kernel has aborted the connection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as f:
                fields = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
            if fields.get("State", "").startswith("Z") and fields.get("Threads") == "1":
                return
        except FileNotFoundError:
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} still alive")


def _kill_daemon(ws):
    pids = daemon_pids(ws.mnt, ws.host)
    assert pids, "no daemon found"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    for pid in pids:
        _wait_dead(pid)
    # statfs always asks the daemon (a stat may be answered from the attribute cache)
    with pytest.raises(OSError) as e:
        os.statvfs(ws.mnt)
    # ECONNABORTED over io_uring (the request was queued when the connection ended)
    assert e.value.errno in (errno.ENOTCONN, errno.ECONNABORTED)


def _write_fsynced(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _mounts_at(path):
    with open("/proc/self/mountinfo") as f:
        return sum(1 for line in f if line.split()[4] == path)


def test_kill9_then_umount_clears(ws):
    data = os.urandom(3 << 20)
    _write_fsynced(ws.m("durable"), data)
    _kill_daemon(ws)
    subprocess.run([DCFS, "umount", ws.mnt], check=True, timeout=60)
    assert _mounts_at(ws.mnt) == 0
    assert open(ws.h("durable"), "rb").read() == data
    ws.mount()
    assert open(ws.m("durable"), "rb").read() == data


def test_kill9_then_mount_clears_by_itself(ws):
    data = os.urandom(1 << 20)
    os.mkdir(ws.m("d"))
    _write_fsynced(ws.m("d", "durable"), data)
    _kill_daemon(ws)
    ws.mount()  # over the stale mount at the same place
    assert _mounts_at(ws.mnt) == 1, "the stale mount was not cleared"
    assert open(ws.m("d", "durable"), "rb").read() == data
    with open(ws.m("after"), "w") as f:
        f.write("ok")
    assert open(ws.h("after")).read() == "ok"


# ---- accounting in the catalog -----------------------------------------------------------------


def test_accounting_through_the_mount(ws):
    ws.assert_row_matches_walk()
    with open(ws.m("a"), "wb") as f:
        f.write(b"x" * 12345)
    os.makedirs(ws.m("d", "e"))
    with open(ws.m("d", "e", "b"), "wb") as f:
        f.write(b"y" * 1000)
    os.link(ws.m("a"), ws.m("d", "a-link"))  # counted once
    os.symlink("a", ws.m("sym"))  # not a regular file
    ws.assert_row_matches_walk()
    assert ws.row()[:2] == (13345, 2)
    with open(ws.m("a"), "ab") as f:
        f.write(b"z" * 655)
    os.truncate(ws.m("d", "e", "b"), 10)
    ws.assert_row_matches_walk()
    with open(ws.m("c"), "wb") as f:
        f.write(b"c" * 50)
    os.rename(ws.m("c"), ws.m("d", "e", "b"))  # over an existing file
    os.unlink(ws.m("a"))  # the hardlink keeps it
    ws.assert_row_matches_walk()
    assert ws.row()[:2] == (13050, 2)
    os.unlink(ws.m("d", "a-link"))
    ws.assert_row_matches_walk()
    assert ws.row()[:2] == (50, 1)


def test_accounting_host_side_and_restarts(ws):
    with open(ws.m("a"), "wb") as f:
        f.write(b"a" * 100)
    os.makedirs(ws.h("hostdir", "sub"))
    with open(ws.h("hostdir", "sub", "h"), "wb") as f:
        f.write(b"h" * 4096)
    with open(ws.h("hostdir", "h2"), "wb") as f:
        f.write(b"h" * 10)
    ws.assert_row_matches_walk()
    with open(ws.h("hostdir", "h2"), "ab") as f:
        f.write(b"more" * 100)
    os.rename(ws.h("hostdir", "sub"), ws.h("moved-sub"))
    os.unlink(ws.h("a"))
    ws.assert_row_matches_walk()

    # unclean stop: the row stays "in use"; the next mount recomputes it
    _kill_daemon(ws)
    assert ws.row()[2] == 1
    with open(ws.h("while-down"), "wb") as f:
        f.write(b"d" * 777)
    subprocess.run([DCFS, "umount", ws.mnt], check=True, timeout=60)
    ws.mount()
    ws.assert_row_matches_walk(timeout=1)

    # clean stop: in_use back to 0, counts kept
    ws.umount()
    ws.wait_daemons_gone()
    ws.assert_row_matches_walk(in_use=0, timeout=1)
    ws.mount()
    ws.assert_row_matches_walk(timeout=1)


def test_accounting_many_files(ws):
    for i in range(300):
        d = ws.m(f"d{i % 7}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i}"), "wb") as f:
            f.write(b"q" * i)
    for i in range(0, 300, 3):
        os.unlink(ws.m(f"d{i % 7}", f"f{i}"))
    for i in range(300, 400):
        with open(ws.h(f"host{i}"), "wb") as f:
            f.write(b"w" * i)
    ws.assert_row_matches_walk()


# ---- readers' handles without a host descriptor (workspace_lazy.c) ----------------------------


def test_cached_readers_flock_read_and_seek(ws):
    """A small file whose pages the kernel holds is opened read-only without a host descriptor:
    flock still locks per open file, against each other and against the host; a page the kernel
    dropped is read again; lseek(SEEK_DATA) and fsync work."""
    import fcntl
    data = os.urandom(200_000)
    with open(ws.h("f"), "wb") as f:
        f.write(data)
    with open(ws.m("f"), "rb") as f:  # the kernel now holds the pages
        assert f.read() == data
    a = os.open(ws.m("f"), os.O_RDONLY)
    b = os.open(ws.m("f"), os.O_RDONLY)
    host = os.open(ws.h("f"), os.O_RDONLY)
    try:
        fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for other in (b, host):
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(a, fcntl.LOCK_UN)
        fcntl.flock(b, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(host, fcntl.LOCK_SH | fcntl.LOCK_NB)  # shared with shared
        with pytest.raises(BlockingIOError):
            fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(b)  # closing the handle drops its lock
        b = -1
        fcntl.flock(host, fcntl.LOCK_UN)
        fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # drop the page cache: the open handle reads from the host again
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
        assert os.pread(a, len(data), 0) == data
        assert os.lseek(a, 0, os.SEEK_DATA) == 0
        os.fsync(a)
        assert os.fstat(a).st_size == len(data)
    finally:
        for fd in (a, b, host):
            if fd >= 0:
                os.close(fd)
    # a writer's change reaches the next reader
    with open(ws.m("f"), "r+b") as f:
        f.write(b"changed")
    with open(ws.m("f"), "rb") as f:
        assert f.read(7) == b"changed"
