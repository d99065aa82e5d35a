"""The data path a mount runs in: the same, intended one on every mount, reported by `dcfs info`
and matching what the kernel does.

A workspace view comes up with FUSE passthrough on a build that has it (libfuse >= 3.17) and
a kernel that offers it, else with the writeback cache (HANDLE_KILLPRIV_V2, which dcfs adds to
the INIT reply itself on libfuse 3.14). Mounted many times in a row, each mount must report the
same mode, and a write must behave as that mode says: with the writeback cache a 4 KiB write
to an open file stays in the kernel until close; passthrough and write-through write it to the
host file at once. Needs root and /dev/fuse.
"""
import json
import os
import subprocess
import time

import pytest

from conftest import mounted_at

DCFS = os.environ.get("DCFS_BIN", "dcfs")
MOUNTS = 12

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="needs /dev/fuse"),
]


def dcfs(*args, store=None):
    argv = [DCFS] + (["--store", str(store)] if store else []) + [str(a) for a in args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)


def info():
    return json.loads(dcfs("info", "--json").stdout)


def record(mnt):
    found = [m for m in info()["mounts"] if m["mountpoint"] == str(mnt)]
    assert len(found) == 1, info()
    return found[0]


def io_uring_expected():
    """libfuse >= 3.18 asks for FUSE over io_uring; the kernel offers it when switched on."""
    knob = "/sys/module/fuse/parameters/enable_uring"
    on = os.path.exists(knob) and open(knob).read().strip() == "Y"
    return on and tuple(int(x) for x in info()["libfuse"].split(".")[:2]) >= (3, 18)


def kernel_offers_passthrough():
    """FUSE passthrough arrived in Linux 6.9."""
    major, minor = (int(x) for x in os.uname().release.split(".")[:2])
    return (major, minor) >= (6, 9)


@pytest.fixture
def place(tmp_path):
    host, mnt = tmp_path / "host", tmp_path / "mnt"
    host.mkdir()
    mnt.mkdir()
    yield tmp_path / "store", host, mnt
    if mounted_at(mnt):
        subprocess.run([DCFS, "umount", str(mnt)], capture_output=True)


def write_reaches_host_at_once(host, mnt, name):
    fd = os.open(mnt / name, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    try:
        os.write(fd, b"x" * 4096)
        return os.stat(host / name).st_size == 4096
    finally:
        os.close(fd)
        assert os.stat(host / name).st_size == 4096  # at close at the latest


def test_version_names_libfuse_and_the_data_path():
    out = dcfs("--version").stdout.splitlines()
    built = info()
    assert out[0].startswith("dcfs ")
    assert out[1].startswith("libfuse " + built["libfuse"])
    assert out[2].startswith("workspace data path: ")
    assert out[2].startswith("workspace data path: FUSE passthrough") == built["passthrough"]


def test_every_mount_comes_up_in_the_intended_mode(place):
    store, host, mnt = place
    want = "passthrough" if info()["passthrough"] and kernel_offers_passthrough() else "writeback"
    seen = []
    for k in range(MOUNTS):
        dcfs("mount", "--workspace", host, mnt, store=store)
        r = record(mnt)
        assert r["view"] == "workspace" and r["pid"] > 0
        assert "killpriv_v2" in r["features"].split()
        assert ("io_uring" in r["features"].split()) == io_uring_expected()
        at_once = write_reaches_host_at_once(host, mnt, "probe-%d" % k)
        seen.append((r["mode"], at_once))
        dcfs("umount", mnt)
        assert not [m for m in info()["mounts"] if m["mountpoint"] == str(mnt)]
    # one mode, the intended one, and the kernel behaved as it says every time
    assert seen == [(want, want != "writeback")] * MOUNTS


def test_image_view_is_reported_read_only(place, tmp_path):
    store, host, mnt = place
    (host / "hello").write_text("hi\n")
    dcfs("import", host, "mode:test", store=store)
    dcfs("mount", "--image", "mode:test", mnt, store=store)
    r = record(mnt)
    assert (r["view"], r["mode"]) == ("image", "read-only")
    assert ("io_uring" in r["features"].split()) == io_uring_expected()
    assert (mnt / "hello").read_text() == "hi\n"
    dcfs("umount", mnt)


def test_a_killed_daemon_leaves_no_live_record(place):
    store, host, mnt = place
    dcfs("mount", "--workspace", host, mnt, store=store)
    pid = record(mnt)["pid"]
    os.kill(pid, 9)
    for _ in range(500):
        if not os.path.exists("/proc/%d" % pid):
            break
        time.sleep(0.01)
    # the dead mount is still in the mount table, but no mode is claimed for it
    r = record(mnt)
    assert "mode" not in r and "pid" not in r
    assert "unknown" in dcfs("info").stdout
    dcfs("umount", mnt)
    assert not mounted_at(mnt)


def test_a_mount_point_with_a_space_is_reported(place, tmp_path):
    store, host, _ = place
    mnt = tmp_path / "my mnt"
    mnt.mkdir()
    try:
        dcfs("mount", "--workspace", host, mnt, store=store)
        assert record(mnt)["view"] == "workspace"
    finally:
        if mounted_at(mnt):
            dcfs("umount", mnt)
