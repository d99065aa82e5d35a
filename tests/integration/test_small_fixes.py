"""Small security and integrity fixes, through the real binary: user and group ids past
4294967294 are refused (not wrapped), a devcontainer.json that is not UTF-8 fails at the bad
byte, a relative bind source is refused (in `mounts` and in runArgs), `dcfs ls` escapes what a
terminal would act on, and an `up` that fails after its container was recorded leaves nothing
behind. Needs root, /dev/fuse and runc (skipped otherwise).
"""
import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from conftest import Dcfs, Store, dcfs_binary
from test_up import IMAGE, env, pytestmark, up, ws  # noqa: F401 (fixtures and marks)


def fails(d, folder, *expect):
    """`up` fails with one line naming each of `expect`, and leaves no container behind."""
    p = d("up", folder, check=1)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and all(x in lines[0] for x in expect), p.stderr
    assert nothing_left(d.store, folder), d("ls").stdout
    return lines[0]


def nothing_left(store, folder):
    rows = store.query("SELECT id FROM containers WHERE folder = ?", (str(folder),))
    return not rows


# ---- ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize("user,what", [
    ("4294967296", "user id 4294967296"),
    ("4294967295", "user id 4294967295"),
    ("99999999999999999999999", "user id 99999999999999999999999"),
    ("vscode:4294967296", "group id 4294967296"),
    ("0:4294967295", "group id 4294967295"),
], ids=["2^32", "2^32-1", "huge", "group", "group-1"])
def test_ids_past_the_largest_are_refused(ws, user, what):
    folder = ws.make("ids", {"image": IMAGE, "containerUser": user})
    fails(ws.d, folder, "devcontainer.json", what, "out of range (0 to 4294967294)")
    # the same through runArgs -u
    folder = ws.make("ids", {"image": IMAGE, "runArgs": ["-u", user]})
    fails(ws.d, folder, what, "out of range")


def test_large_ids_below_the_limit_are_ids(ws):
    """Ten digits are still a number (they were taken for a user's name). runc itself takes
    ids up to 2147483647 only."""
    folder = ws.make("bigid", {"image": IMAGE, "containerUser": "2000000000:2147483647"})
    up(ws.d, folder)
    assert ws.d("exec", folder, "--", "sh", "-c", "id -u; id -g").stdout.split() == \
        ["2000000000", "2147483647"]


# ---- UTF-8 -------------------------------------------------------------------------------------


def test_invalid_utf8_in_the_configuration(ws):
    text = b'{\n  "image": "' + IMAGE.encode() + b'",\n  "name": "caf\xc3\xa9 \xe9t\xc3\xa9"\n}\n'
    folder = ws.make("utf8", text=text)
    config = folder / ".devcontainer" / "devcontainer.json"
    fails(ws.d, folder, f"{config}:3:17: invalid UTF-8 (byte 0xe9)")
    p = ws.d("read-configuration", folder, check=1)
    assert f"{config}:3:17: invalid UTF-8" in p.stderr


# ---- relative bind sources ---------------------------------------------------------------------


@pytest.mark.parametrize("mount", [
    "type=bind,source=src,target=/x",
    "source=./src,target=/x,type=bind",
    {"type": "bind", "source": "../src", "target": "/x"},
], ids=["string", "dot", "object"])
def test_relative_bind_source_in_mounts(ws, mount):
    folder = ws.make("relmount", {"image": IMAGE, "mounts": [mount]})
    (folder / "src").mkdir()
    fails(ws.d, folder, "devcontainer.json", "must be an absolute path")


@pytest.mark.parametrize("args,shown", [
    (["-v", "./src:/x"], "'-v ./src:/x'"),
    (["--volume=src/sub:/x:ro"], "'--volume src/sub:/x:ro'"),
    (["--mount", "type=bind,src=src,dst=/x"], "'src'"),
], ids=["v", "volume", "mount"])
def test_relative_bind_source_in_run_args(ws, args, shown):
    folder = ws.make("relargs", {"image": IMAGE, "runArgs": args})
    (folder / "src").mkdir()
    fails(ws.d, folder, shown, "must be an absolute path")


def test_volume_names_and_absolute_sources_still_work(ws, tmp_path):
    src = tmp_path / "abs-src"
    src.mkdir()
    (src / "f").write_text("abs\n")
    folder = ws.make("okmounts", {"image": IMAGE,
                                  "mounts": [f"type=bind,source={src},target=/abs"],
                                  "runArgs": ["-v", "small-fixes-vol:/vol"]})
    up(ws.d, folder)
    p = ws.d("exec", folder, "--", "sh", "-c", "cat /abs/f; test -d /vol && echo vol")
    assert p.stdout.split() == ["abs", "vol"]


# ---- dcfs ls ---------------------------------------------------------------------------------


def test_ls_escapes_control_characters(env, tmp_path):
    """A folder's name comes from whoever made the folder: the table must not carry its
    terminal escapes (here a title change and a colour) or bytes that are not UTF-8."""
    d, _, _ = env
    store = Store(tmp_path / "ls-store")
    d2 = Dcfs(dcfs_binary(), store)
    d2("import", env[0].store.path.parent / "rootfs", IMAGE)
    image_id = store.scalar("SELECT id FROM images WHERE ref = ?", (IMAGE,))
    folder = b"/home/u/\x1b]0;pwned\x07x\x1b[31m\xff\\y\xc2\x9b2J\xc3\xa9"
    store.execute("INSERT INTO containers(id, name, image_id, state, created, folder, config_file)"
                  " VALUES ('0123456789abcdef0123456789abcdef', ?, ?, 'stopped', 0, ?, 'c.json')",
                  (b"n\x1bame\n2", image_id, folder))
    p = subprocess.run([str(dcfs_binary()), "--store", str(store.path), "ls"],
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    for bad in (b"\x1b", b"\x07", b"\xff", b"\xc2\x9b", b"\n2"):
        assert bad not in out, out
    assert b"/home/u/\\x1b]0;pwned\\x07x\\x1b[31m\\xff\\\\y\\xc2\\x9b2J\xc3\xa9" in out, out
    assert b"n\\x1bame\\x0a2" in out, out
    # --json is JSON: cJSON escapes the control characters
    p = d2("ls", "--json")
    assert "\x1b" not in p.stdout and "\\u001b]0;pwned" in p.stdout


# ---- a failed up ---------------------------------------------------------------------------


def run_dirs(store, cid):
    root = os.path.realpath(store.path)
    return Path("/run/dcfs") / hashlib.sha256(root.encode()).hexdigest()[:16] / cid


@pytest.mark.parametrize("config,expect", [
    # runc cannot bind what is not there
    ({"mounts": ["type=bind,source=/nonexistent-dcfs-source,target=/x"]}, ": runc run: "),
    # the root is mounted, but the user is not in its /etc/passwd
    ({"containerUser": "nosuchuser"}, "user 'nosuchuser' is not in the container's"),
], ids=["runc", "user"])
def test_failed_up_leaves_nothing(ws, config, expect):
    folder = ws.make("failing", {"image": IMAGE, **config})
    before = set(os.listdir(ws.store.path / "containers"))
    p = ws.d("up", folder, check=1)
    assert expect in p.stderr, p.stderr
    assert nothing_left(ws.store, folder)
    assert ws.d("ls", "--json").stdout.strip() == "[]"
    assert set(os.listdir(ws.store.path / "containers")) == before
    assert not [m for m in open("/proc/self/mounts").read().splitlines()
                if str(os.path.realpath(ws.store.path)) in m]
    # a second up with the configuration fixed starts clean
    folder = ws.make("failing", {"image": IMAGE, "remoteUser": "vscode"})
    out = up(ws.d, folder)
    assert out["outcome"] == "success"
    assert ws.d("exec", folder, "--", "id", "-u").stdout.strip() == "1000"
    assert run_dirs(ws.store, out["containerId"]).is_dir()
