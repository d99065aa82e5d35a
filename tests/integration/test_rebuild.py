"""dcfs rebuild and rebuild --full.

`rebuild` removes the folder's container and creates it again from its image (never from a
prebuild): every lifecycle command runs again, the workspace folder and .devcontainer/config
survive, the rest of the container's root is reset. `rebuild --full` lists what the folder's
configuration used (its container, image, snapshots and prebuilds, volumes) with what it will do,
removes what no other folder's container uses (an imported image is kept; other folders'
containers, snapshots and prebuilds are not touched), refuses without --yes when stdin is not a terminal, pulls the image
again when it removed it, and ups the container; workspace folders are never touched.

The plain rebuild tests share test_up.py's module store; the --full ones each get a store of
their own (they empty it). Needs root, /dev/fuse and runc.
"""
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from test_up import (IMAGE, RAN, Workspaces, busybox_store, env, lifecycle, pytestmark,  # noqa: F401
                     runc_status, up, ws)

ALL = ["onCreate", "updateContent", "postCreate", "postStart", "postAttach"]


def ran(ws, folder):
    return ws.d("exec", folder, "--", "cat", RAN).stdout.split()


def containers(d):
    return {c["folder"]: c for c in d.json("ls", "--json")}


def folder_digest(folder: Path) -> dict:
    """Every path under folder with its type, mode, owner and content hash."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for n in sorted(dirnames + filenames):
            p = Path(dirpath) / n
            st = os.lstat(p)
            h = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and \
                not p.is_symlink() else None
            out[str(p.relative_to(folder))] = (st.st_mode, st.st_uid, st.st_gid, h)
    return out


# ---- rebuild ----------------------------------------------------------------------------------


def test_rebuild_keeps_workspace_and_config(ws):
    folder = ws.make("rb", lifecycle(
        mounts=[{"type": "volume", "source": "rb-vol", "target": "/vol"}]))
    (folder / ".devcontainer" / "config").mkdir()
    os.chown(folder / ".devcontainer" / "config", 1000, 1000)
    first = up(ws.d, folder)["containerId"]
    ws.d("exec", folder, "--", "sh", "-c",
         'echo ws > /workspaces/rb/in-workspace; echo cfg > "$HOME/config/in-config"; '
         "echo upper > /etc/in-upper; rm /bin/vi; echo vol > /vol/in-volume")
    before = folder_digest(folder)
    p = ws.d("rebuild", folder)
    assert "prebuild:" not in p.stdout or "not looked for" in p.stdout
    [c] = [c for f, c in containers(ws.d).items() if f == str(folder)]
    assert c["id"] != first and c["state"] == "running"
    assert not (ws.store.path / "containers" / first).exists()
    # every lifecycle command ran once more, in a fresh root
    assert ran(ws, folder) == ALL
    assert ws.d("exec", folder, "--", "sh", "-c",
                "test -e /etc/in-upper || echo reset; test -e /bin/vi && echo back").stdout \
        == "reset\nback\n"
    # the workspace and the config folder survive, untouched
    assert folder_digest(folder) == before
    assert ws.d("exec", folder, "--", "sh", "-c",
                'cat /workspaces/rb/in-workspace "$HOME/config/in-config"').stdout == "ws\ncfg\n"
    # a volume is not the container's: it stays
    assert ws.d("exec", folder, "--", "cat", "/vol/in-volume").stdout == "vol\n"


def test_rebuild_does_not_use_a_prebuild(ws):
    folder = ws.make("rbpb", lifecycle(name="rbpb"))
    ws.d("prebuild", folder)
    p = ws.d("up", folder)
    assert "prebuild: starting from snapshot" in p.stdout
    p = ws.d("rebuild", "--json", folder)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["outcome"] == "success" and not out.get("prebuild")
    assert "starting from snapshot" not in p.stdout + p.stderr
    assert ran(ws, folder) == ALL
    assert containers(ws.d)[str(folder)]["image"] == IMAGE


def test_rebuild_of_a_stopped_container_and_of_none(ws):
    folder = ws.make("rbstop", lifecycle(name="rbstop"))
    up(ws.d, folder)
    ws.d("exec", folder, "--", "sh", "-c", "echo x > /etc/x")
    ws.d("down", folder)
    ws.d("rebuild", folder)
    assert containers(ws.d)[str(folder)]["state"] == "running"
    assert ran(ws, folder) == ALL
    assert ws.d("exec", folder, "--", "sh", "-c", "test -e /etc/x || echo gone").stdout == "gone\n"
    # no container yet: rebuild makes one
    other = ws.make("rbnone", lifecycle(name="rbnone"))
    ws.d("rebuild", other)
    assert ran(ws, other) == ALL
    # a folder without devcontainer.json: a one-line error
    (ws.root / "empty").mkdir()
    p = ws.d("rebuild", ws.root / "empty", check=1)
    assert len(p.stderr.strip().splitlines()) == 1 and p.stderr.startswith("dcfs: rebuild: ")


def test_rebuild_usage(ws):
    folder = ws.make("rbusage", lifecycle(name="rbusage"))
    ws.d("rebuild", "--bogus", folder, check=2)
    ws.d("rebuild", folder, "extra", check=2)
    ws.d("rebuild", "--yes", folder, check=2)  # --yes only means something with --full
    assert str(folder) not in containers(ws.d)


# ---- rebuild --full ---------------------------------------------------------------------------


@pytest.fixture
def fresh(tmp_path, request):
    """A Workspaces over a store of this test's own, with busybox:demo imported."""
    base = tmp_path / "full"
    base.mkdir()
    d, store, rootfs = busybox_store(base)
    w = Workspaces((d, store, base), request)
    w.rootfs = rootfs
    yield w
    w.cleanup()


def listing(stderr: str) -> list:
    """The KIND NAME SIZE ACTION rows rebuild --full printed."""
    rows = []
    lines = stderr.splitlines()
    start = next(i for i, l in enumerate(lines) if l.split()[:4] == ["KIND", "NAME", "SIZE",
                                                                    "ACTION"])
    for l in lines[start + 1:]:
        m = re.match(r"^(container|image|snapshot|volume)\s+(\S+)\s+(\S+)\s+(.+?)\s*$", l)
        if not m:
            break
        rows.append(m.groups())
    return rows


def inventory(w) -> dict:
    d = w.d
    return {
        "container": {c["name"] for c in d.json("ls", "--json")},
        "image": {x["ref"] for x in json.loads(d("images", "--json").stdout)
                  if x.get("kind", "image") == "image"},
        "snapshot": set(d("snapshots", "-q").stdout.split()),
        "volume": {p.name for p in (w.store.path / "volumes").iterdir()}
        if (w.store.path / "volumes").is_dir() else set(),
    }


def test_rebuild_full_refuses_without_yes(fresh):
    w = fresh
    folder = w.make("fa", lifecycle(mounts=[{"type": "volume", "source": "fa-v",
                                             "target": "/v"}]))
    cid = up(w.d, folder)["containerId"]
    w.d("snapshot", folder)
    before = inventory(w)
    p = w.d("rebuild", "--full", folder, check=1)  # stdin is /dev/null: not a terminal
    errors = [l for l in p.stderr.splitlines() if l.startswith("dcfs:")]
    assert len(errors) == 1 and errors[0].startswith("dcfs: rebuild: ")
    assert "--yes" in errors[0]
    assert listing(p.stderr), "the listing comes first, so that the user sees what --yes removes"
    assert inventory(w) == before
    assert runc_status(w.store, cid) == "running"
    # "n" on stdin (not a terminal either): the same
    p = w.d("rebuild", "--full", folder, check=1, input="y\n")
    assert inventory(w) == before


def push_and_pull(w, registry_dir: Path, share_layer=False):
    """A busybox image pushed to a local registry and pulled back: an image with a registry.
    Unless share_layer, its layer differs from every imported one (pushed from a temporary
    image that is then removed and pruned), so that the pull stores it itself."""
    from registry import Registry
    reg = Registry(registry_dir).start()
    ref = f"{reg.host}/team/busybox:pulled"
    if share_layer:
        w.d("push", IMAGE, ref)
    else:
        (w.rootfs / "etc" / "pushed").write_text("pushed\n")
        w.d("import", w.rootfs, "tmp/topush:v1")
        (w.rootfs / "etc" / "pushed").unlink()
        w.d("push", "tmp/topush:v1", ref)
        w.d("rmi", "tmp/topush:v1")
        w.d("prune")
    w.d("pull", ref)
    return reg, ref


def test_rebuild_full(fresh, tmp_path):
    w = fresh
    reg = None
    pulled = None
    if shutil.which("docker-registry"):
        reg, pulled = push_and_pull(w, tmp_path / "registry")
    try:
        _run_full(w, pulled)
    finally:
        if reg:
            reg.stop()


@pytest.mark.skipif(not shutil.which("docker-registry"), reason="needs docker-registry")
def test_rebuild_full_pulled_image_sharing_an_imported_layer(fresh, tmp_path):
    w = fresh
    reg, pulled = push_and_pull(w, tmp_path / "registry", share_layer=True)
    try:
        a = w.make("fp", lifecycle(image=pulled, name="fp"))
        p = w.d("rebuild", "--full", "--yes", a)
        action = {(k, n): act for k, n, _, act in listing(p.stderr)}
        assert action[("image", pulled)] == "remove"
    finally:
        reg.stop()


def _run_full(w, pulled):
    image_a = pulled or IMAGE
    # the folder rebuilt: a container with a volume, a snapshot and a prebuild
    a = w.make("fa", lifecycle(image=image_a, name="fa",
                               mounts=[{"type": "volume", "source": "fa-v", "target": "/v"}]))
    w.d("prebuild", a)
    up(w.d, a)
    w.d("exec", a, "--", "sh", "-c", "echo v > /v/f; echo w > /workspaces/fa/wsfile")
    snap_a = w.d("snapshot", a).stdout.split()[1].rstrip(":")
    # another folder, running, on an image of its own with a volume: all of it stays
    (w.rootfs / "etc" / "b-marker").write_text("b\n")
    w.d("import", w.rootfs, "busybox:b")
    b = w.make("fb", lifecycle(image="busybox:b", name="fb",
                               mounts=[{"type": "volume", "source": "fb-v", "target": "/v"}]))
    pb_b = re.search(r"^snapshot (\S+): ", w.d("prebuild", b).stdout, re.M).group(1)
    b_id = up(w.d, b)["containerId"]
    w.d("exec", b, "--", "sh", "-c", "echo keep > /v/f; echo in-b > /etc/b-upper")
    snap_b = w.d("snapshot", b).stdout.split()[1].rstrip(":")
    # a third folder whose container is stopped
    c = w.make("fc", lifecycle(name="fc"))
    up(w.d, c)
    w.d("down", c)
    workspaces = {f: folder_digest(f) for f in (a, b, c)}
    before = inventory(w)

    p = w.d("rebuild", "--full", "--yes", a)
    rows = listing(p.stderr)
    listed = {(k, n) for k, n, _, _ in rows}
    action = {(k, n): act for k, n, _, act in rows}
    # what A's configuration used is listed: its container, image, snapshots, prebuild, volume
    name_a = [n for (k, n) in listed if k == "container"]
    assert len(name_a) == 1 and name_a[0].startswith("fa"), rows
    assert action[("snapshot", snap_a)] == "remove"
    assert len([n for (k, n) in listed if k == "snapshot"]) == 2, rows  # + A's prebuild
    assert action[("volume", "fa-v")] == "remove"
    # other folders' containers, snapshots, prebuilds and volumes are not even listed
    for k, n in listed:
        assert not n.startswith(("fb", "fc")) and n not in (pb_b, snap_b, "busybox:b"), rows
    if pulled:
        assert action[("image", pulled)] == "remove"
        assert ("image", IMAGE) not in listed  # C's container's image, not A's
    else:
        assert action[("image", IMAGE)].startswith("keep"), rows  # C uses it, and imported
    removed = [(k, n) for k, n, _, act in rows if act == "remove"]
    m = re.search(r"^rebuild --full: removed (\d+) objects, reclaimed ", p.stderr, re.M)
    assert m and int(m.group(1)) == len(removed), p.stderr
    if pulled:
        assert f"pulling {pulled}: it is not in the store" in p.stderr

    after = inventory(w)
    for k, n in removed:
        if k == "container":
            continue  # A's container is made again under the same name
        if (k, n) in (("image", pulled), ("volume", "fa-v")):
            continue  # pulled again; made again (empty) by A's up
        assert n not in after[k], f"{k} {n} listed as removed but still there"
    for (k, n), act in action.items():
        if act.startswith("keep"):
            assert n in after[k], f"{k} {n} listed as kept but gone"
    # nothing that was not listed was removed, and nothing new but A's container and image
    assert runc_status(w.store, b_id) == "running"
    assert w.d("exec", b, "--", "sh", "-c", "cat /v/f /etc/b-upper /etc/b-marker").stdout == \
        "keep\nin-b\nb\n"
    assert snap_b in after["snapshot"] and pb_b in after["snapshot"]
    assert "busybox:b" in after["image"] and "fb-v" in after["volume"]
    assert [n for n in after["container"] if n.startswith("fc")], "C's stopped container stays"
    # A is up again, from its image, every command ran, its volume is new and empty
    ca = containers(w.d)[str(a)]
    assert ca["state"] == "running" and ca["image"] == image_a
    assert ran(w, a) == ALL
    assert w.d("exec", a, "--", "sh", "-c", "ls /v | wc -l").stdout.strip() == "0"
    assert w.d("exec", a, "--", "cat", "/workspaces/fa/wsfile").stdout == "w\n"
    # workspaces never touched
    assert {f: folder_digest(f) for f in (a, b, c)} == workspaces
    assert "0 problems" in w.d("fsck").stdout


@pytest.mark.skipif(not shutil.which("docker-registry"), reason="needs docker-registry")
def test_rebuild_full_keeps_an_image_a_mount_serves(fresh, tmp_path):
    """An image listed for removal that a `dcfs mount` serves by the time the purge runs is
    kept, and the rebuild carries on to the end."""
    w = fresh
    reg, pulled = push_and_pull(w, tmp_path / "registry")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    try:
        other = w.make("served", lifecycle(image=IMAGE, name="served"))
        w.d("up", other)
        w.d("down", "-f", other)
        w.d("mount", "--image", pulled, mnt)
        a = w.make("fm", lifecycle(image=pulled, name="fm"))
        w.d("up", a)
        p = w.d("rebuild", "--full", "--yes", a)
        assert ("image", pulled, ) in {r[:2] for r in listing(p.stderr)}
        assert pulled in inventory(w)["image"]  # kept: the mount serves it
        assert "onCreate" in ran(w, a)
        assert "0 problems" in w.d("fsck").stdout
    finally:
        w.d("umount", mnt, check=False)
        reg.stop()
