"""The workspace view enforces what the host enforces: POSIX ACLs set with setfacl (on the host
folder or through the view) deny and grant reads, writes, creations and hardlinks exactly as on
the host, and a write or truncate by a process without CAP_FSETID drops the set-user-ID and
set-group-ID bits as ext4 does, without failing for a writer that does not own the file.

Each test mounts a fresh host folder with `dcfs mount --workspace`, acts through the mount as
root and as unprivileged users (forked children), and checks the host folder itself. Needs
root, /dev/fuse and setfacl (package acl); skipped otherwise.
"""
import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import mounted_at
import posix_battery as pb
import test_workspace
from posix_battery import U1, U2, U3, call_as, create, open_trunc, read_file as read  # noqa: F401

DCFS = os.environ.get("DCFS_BIN", "dcfs")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="needs /dev/fuse"),
    pytest.mark.skipif(shutil.which("setfacl") is None, reason="needs setfacl (package acl)"),
]


def as_user(user, fn, *args, umask=0o022):
    """fn(*args) in a forked child with `user`'s ids; its result, or the OSError it raised."""
    uid, gid, groups = user
    ok, value = call_as((uid, gid, [gid, *groups]), fn, *args, umask=umask)
    if not ok:
        raise value
    return value


def errno_of(user, fn, *args, **kw):
    try:
        as_user(user, fn, *args, **kw)
    except OSError as e:
        return e.errno
    return 0


def eventually(check, timeout=10.0):
    """Host-side changes reach the kernel's caches through inotify, asynchronously."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def setfacl(*args):
    subprocess.run(["setfacl", *args], check=True, capture_output=True)


def getfacl(path):
    return subprocess.run(["getfacl", "-cpn", path], check=True, capture_output=True,
                          text=True).stdout


def append(path, data=b"+"):
    return pb.append(path, data)


def mode(path):
    return os.lstat(path).st_mode & 0o7777


class Workspace(test_workspace.Workspace):
    """test_workspace.py's host folder and view, with files and folders made on the host."""

    def file(self, name, mode=0o644, owner=(0, 0), data=b"data\n"):
        with open(self.h(name), "wb") as f:
            f.write(data)
        os.chown(self.h(name), *owner)
        os.chmod(self.h(name), mode)

    def dir(self, name, mode=0o755, owner=(0, 0)):
        os.mkdir(self.h(name))
        os.chown(self.h(name), *owner)
        os.chmod(self.h(name), mode)


@pytest.fixture
def ws():
    # not pytest's tmp_path: its parents are 0700, and the users must reach the mount point
    base = tempfile.mkdtemp(prefix="dcfs-wsacl-", dir="/tmp")
    os.chmod(base, 0o755)
    w = Workspace(base)
    try:
        yield w
    finally:
        with contextlib.suppress(Exception):
            subprocess.run([DCFS, "umount", w.mnt], timeout=60, capture_output=True)
        if mounted_at(w.mnt):
            subprocess.run(["umount", "-l", w.mnt])
        if not mounted_at(w.mnt):
            shutil.rmtree(base, ignore_errors=True)


# ---- item 5: POSIX ACLs -------------------------------------------------------------------


def test_acl_on_the_host_denies_read_and_write(ws):
    ws.file("f", 0o666)
    setfacl("-m", "u:1000:---", ws.h("f"))
    ws.mount()
    assert errno_of(U1, read, ws.m("f")) == errno.EACCES
    assert errno_of(U1, append, ws.m("f")) == errno.EACCES
    assert errno_of(U1, os.truncate, ws.m("f"), 0) == errno.EACCES
    assert not as_user(U1, os.access, ws.m("f"), os.R_OK)
    assert as_user(U3, read, ws.m("f")) == b"data\n"  # the mask leaves "other" alone
    assert read(ws.h("f")) == b"data\n"


def test_acl_on_the_host_grants_what_the_mode_does_not(ws):
    ws.file("f", 0o600)
    setfacl("-m", "u:1001:rw", ws.h("f"))
    ws.mount()
    assert as_user(U2, read, ws.m("f")) == b"data\n"
    assert as_user(U2, append, ws.m("f")) == 1
    assert read(ws.h("f")) == b"data\n+"
    assert errno_of(U1, read, ws.m("f")) == errno.EACCES


def test_acl_on_a_folder_denies_hardlink_create_and_unlink(ws):
    ws.dir("d", 0o777)
    ws.file("d/x")
    ws.file("mine", 0o644, (1000, 1000))
    setfacl("-m", "u:1000:r-x", ws.h("d"))
    ws.mount()
    assert errno_of(U1, os.link, ws.m("mine"), ws.m("d", "mine")) == errno.EACCES
    assert errno_of(U1, create, ws.m("d", "new")) == errno.EACCES
    assert errno_of(U1, os.unlink, ws.m("d", "x")) == errno.EACCES
    assert errno_of(U1, os.rename, ws.m("mine"), ws.m("d", "moved")) == errno.EACCES
    assert sorted(os.listdir(ws.h("d"))) == ["x"]
    # a user the ACL does not name still gets the mode's rights
    as_user(U3, create, ws.m("d", "other"))
    assert sorted(os.listdir(ws.h("d"))) == ["other", "x"]


def test_acl_changed_on_the_host_while_mounted(ws):
    ws.file("f", 0o644)
    ws.mount()
    assert as_user(U1, read, ws.m("f")) == b"data\n"  # the kernel caches what it checked
    setfacl("-m", "u:1000:---", ws.h("f"))

    def denied():
        assert errno_of(U1, read, ws.m("f")) == errno.EACCES
    eventually(denied)
    setfacl("-b", ws.h("f"))

    def allowed():
        assert errno_of(U1, read, ws.m("f")) == 0
    eventually(allowed)


def test_acl_set_through_the_view(ws):
    ws.file("f", 0o644)
    ws.file("g", 0o640, (1000, 1000))
    ws.mount()
    setfacl("-m", "u:1000:---", ws.m("f"))
    assert "user:1000:---" in getfacl(ws.h("f"))
    assert errno_of(U1, read, ws.m("f")) == errno.EACCES
    # the owner may set an ACL on its own file; a non-owner may not
    as_user(U1, setfacl, "-m", "u:1002:r", ws.m("g"))
    assert "user:1002:r--" in getfacl(ws.h("g"))
    assert as_user(U3, read, ws.m("g")) == b"data\n"
    with pytest.raises(subprocess.CalledProcessError):
        as_user(U2, setfacl, "-m", "u:1001:rw", ws.m("g"))
    # chmod narrows the ACL's mask: the named user loses write
    os.chmod(ws.m("g"), 0o600)
    assert errno_of(U3, read, ws.m("g")) == errno.EACCES
    assert getfacl(ws.m("g")) == getfacl(ws.h("g"))


def test_a_mount_without_acls_inside_the_folder(ws):
    """A file system without ACLs mounted inside the workspace (ramfs) stays usable by
    non-owners: its EOPNOTSUPP for the ACL xattrs reads as "no ACL"."""
    ws.dir("r")
    subprocess.run(["mount", "-t", "ramfs", "ramfs", ws.h("r")], check=True)
    try:
        os.chmod(ws.h("r"), 0o755)
        ws.file("r/f", 0o644)
        ws.mount()
        assert as_user(U1, read, ws.m("r", "f")) == b"data\n"
        assert errno_of(U1, append, ws.m("r", "f")) == errno.EACCES
    finally:
        if mounted_at(ws.mnt):  # first the view, which holds the ramfs open
            subprocess.run([DCFS, "umount", ws.mnt], timeout=60, capture_output=True)
        subprocess.run(["umount", "-l", ws.h("r")], capture_output=True)


def test_default_acl_is_inherited_and_overrides_the_umask(ws):
    """A new entry in a folder with a default ACL gets the ACL and a mode from it, not from the
    umask; elsewhere the umask applies. Compared with the same creations on the host."""
    for d in ("d", "plain"):
        ws.dir(d, 0o777)
    setfacl("-d", "-m", "u:1000:rwx,g::rwx,o::r-x", ws.h("d"))
    ws.mount()
    for root, tag in ((ws.m, "view"), (ws.h, "host")):
        as_user(U1, create, root("d", f"f-{tag}"), 0o666, umask=0o077)
        as_user(U1, os.mkdir, root("d", f"s-{tag}"), 0o777, umask=0o077)
        as_user(U1, create, root("plain", f"f-{tag}"), 0o666, umask=0o027)
    for name in ("d/f", "d/s", "plain/f"):
        assert mode(ws.h(f"{name}-view")) == mode(ws.h(f"{name}-host")), name
        assert getfacl(ws.h(f"{name}-view")) == getfacl(ws.h(f"{name}-host")), name
    assert mode(ws.h("d/f-view")) == 0o664
    assert mode(ws.h("plain/f-view")) == 0o640
    assert "default:user:1000:rwx" in getfacl(ws.h("d/s-view"))


# ---- item 6: set-user-ID and set-group-ID bits ---------------------------------------------


def test_group_member_writes_to_a_setuid_file(ws):
    """Writing to a group-writable setuid file as a member of its group succeeds (it failed
    with EPERM: the view made the kernel's bit-dropping mode change as the writer) and drops
    the bits on the host."""
    ws.file("w1", 0o6775, (1000, 1000))
    ws.file("w2", 0o2775, (1000, 1000))
    ws.file("w3", 0o2765, (1000, 1000))  # set-group-ID without group execute: kept
    ws.mount()
    for name in ("w1", "w2", "w3"):
        assert as_user(U2, append, ws.m(name)) == 1, name
        assert read(ws.h(name)) == b"data\n+"
    assert mode(ws.h("w1")) == 0o775
    assert mode(ws.h("w2")) == 0o775
    assert mode(ws.h("w3")) == 0o2765
    assert mode(ws.m("w1")) == 0o775


def test_owner_write_drops_the_bits_and_root_keeps_them(ws):
    ws.file("mine", 0o6755, (1000, 1000))
    ws.file("roots", 0o6755, (1000, 1000))
    ws.mount()
    as_user(U1, append, ws.m("mine"))
    append(ws.m("roots"))  # root has CAP_FSETID
    assert mode(ws.h("mine")) == 0o755
    assert mode(ws.h("roots")) == 0o6755
    assert read(ws.h("roots")) == b"data\n+"


def test_truncate_by_a_non_owner_drops_the_bits(ws):
    for name in ("t1", "t2", "t3", "t4"):
        ws.file(name, 0o6775, (1000, 1000))
    ws.file("empty", 0o6775, (1000, 1000), data=b"")
    ws.mount()
    as_user(U2, open_trunc, ws.m("t1"))
    as_user(U2, os.truncate, ws.m("t2"), 2)
    assert errno_of(U3, open_trunc, ws.m("t3")) == errno.EACCES
    as_user(U2, open_trunc, ws.m("empty"))
    open_trunc(ws.m("t4"))  # root: kept
    assert [mode(ws.h(n)) for n in ("t1", "t2", "t3", "empty", "t4")] == \
        [0o775, 0o775, 0o6775, 0o775, 0o6775]
    assert [os.stat(ws.h(n)).st_size for n in ("t1", "t2", "t4")] == [0, 2, 0]
    assert mode(ws.m("t1")) == 0o775  # the kernel's cached attributes too


def test_set_group_id_by_a_member_through_a_supplementary_group(ws):
    """The host decides whether a new or chmod'ed file keeps set-group-ID from the caller's
    groups: the view passes the supplementary ones too."""
    ws.dir("sd", 0o2777, (1000, 1000))
    ws.file("k", 0o644, (1001, 1000))
    ws.mount()
    as_user(U2, os.chmod, ws.m("k"), 0o2755)
    as_user(U2, create, ws.m("sd", "in-group"), 0o2755)
    as_user(U3, create, ws.m("sd", "not-in-group"), 0o2755)
    assert mode(ws.h("k")) == 0o2755
    assert mode(ws.h("sd", "in-group")) == 0o2755
    assert mode(ws.h("sd", "not-in-group")) == 0o755
