"""dcfs prebuild and `up` from a prebuild: a throwaway container runs onCreateCommand and
updateContentCommand, is snapshotted (origin prebuild) and removed; a later `up` of the same
configuration starts from that snapshot and runs only postCreate, postStart and postAttach.
Also: misses and their reasons, --no-prebuild, retention (--keep, prune), coalescing of
concurrent requests, `du`.

Same fixtures as test_up.py (busybox:demo imported once per module, workspace folders owned by
uid 1000, containers removed in teardown); needs root, /dev/fuse and runc.
"""
import json
import re
import subprocess
import time

import pytest

from test_up import IMAGE, RAN, env, pytestmark, rec, runc_status, up, ws  # noqa: F401 (fixtures, marks)
from test_up import lifecycle as recording_config

TOOL = " && mkdir -p /opt/tool && echo built > /opt/tool/v"  # what onCreate builds


def lifecycle(**extra):
    """test_up.lifecycle(), whose onCreateCommand also builds /opt/tool/v."""
    return recording_config(TOOL, **extra)


def prebuild(ws, folder, *args, check=True):
    p = ws.d("prebuild", *args, folder, check=check)
    if p.returncode != 0:
        return p, None
    m = re.search(r"^snapshot (\S+): ", p.stdout, re.M)
    return p, (m.group(1) if m else None)


def snaps(ws):
    return json.loads(ws.d("snapshots", "--json").stdout)


def prebuilds_of(ws, folder):
    return [s for s in snaps(ws) if s["origin"] == "prebuild" and s["folder"] == str(folder)]


def ran(ws, folder):
    return ws.d("exec", folder, "--", "cat", RAN).stdout.split()


def containers_of(ws, folder):
    return [c for c in ws.d.json("ls", "--json") if c["folder"] == str(folder)]


def rewrite(folder, config):
    (folder / ".devcontainer" / "devcontainer.json").write_text(json.dumps(config))


def test_prebuild_then_up(ws):
    folder = ws.make("pb", lifecycle())
    cfg = folder / ".devcontainer" / "devcontainer.json"
    p, ref = prebuild(ws, folder)
    assert ref and ref.startswith("dcfs-snapshots/pb:prebuild-"), p.stdout
    assert re.search(r"^prebuild: key [0-9a-f]{12}; keeping the newest 2, 0 more now reclaimable$",
                     p.stdout, re.M), p.stdout
    # the throwaway container is gone, and nothing of it is left in the store
    assert containers_of(ws, folder) == []
    assert not any((ws.store.path / "containers").iterdir()) if \
        (ws.store.path / "containers").exists() else True
    [row] = prebuilds_of(ws, folder)
    assert row["ref"] == ref
    assert row["stage"] == "updateContentCommand"
    assert row["base"] == IMAGE and row["baseDigest"].startswith("sha256:")
    assert row["configFile"] == str(cfg)
    assert re.fullmatch(r"[0-9a-f]{64}", row["key"])
    assert row["reclaimable"] is False and not row.get("usedBy")
    # the snapshot holds exactly what onCreate and updateContent did
    mnt = ws.root / "mnt"
    mnt.mkdir()
    ws.d("mount", "--image", ref, mnt)
    try:
        assert (mnt / RAN.lstrip("/")).read_text().split() == ["onCreate", "updateContent"]
        assert (mnt / "opt/tool/v").read_text() == "built\n"
    finally:
        ws.d("umount", mnt)
    # up starts from it: only postCreate, postStart, postAttach run
    p = ws.d("up", "--json", folder)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["outcome"] == "success" and out["prebuild"] == ref
    assert f"prebuild: starting from snapshot {ref}" in p.stderr
    assert "starting from" not in p.stdout and len(p.stdout.strip().splitlines()) == 1
    assert ran(ws, folder) == ["onCreate", "updateContent", "postCreate", "postStart",
                               "postAttach"]
    assert ws.d("exec", folder, "--", "cat", "/opt/tool/v").stdout == "built\n"
    [row] = prebuilds_of(ws, folder)
    assert row.get("usedBy"), row
    # the container's run-once commands stay done: a running up only attaches, a restart starts
    ws.d("up", folder)
    assert ran(ws, folder)[5:] == ["postAttach"]
    ws.d("down", folder)
    ws.d("up", folder)
    assert ran(ws, folder)[6:] == ["postStart", "postAttach"]
    # without --json the note is on stdout, once
    ws.d("rm", "-f", folder)
    p = ws.d("up", folder)
    assert p.stdout.count(f"prebuild: starting from snapshot {ref}") == 1


def test_prebuild_leaves_the_folders_container_alone(ws):
    folder = ws.make("pbalone", lifecycle())
    cid = up(ws.d, folder)["containerId"]
    ws.d("exec", folder, "--", "sh", "-c", "echo mine > /etc/mine")
    _, ref = prebuild(ws, folder)
    assert ref
    assert runc_status(ws.store, cid) == "running"
    assert ws.d("exec", folder, "--", "cat", "/etc/mine").stdout == "mine\n"
    assert [c["id"] for c in containers_of(ws, folder)] == [cid]


def test_changed_configuration_misses(ws):
    folder = ws.make("pbmiss", lifecycle())
    cfg = folder / ".devcontainer" / "devcontainer.json"
    _, ref = prebuild(ws, folder)
    # the commands after updateContent are not part of the key: still a hit
    rewrite(folder, lifecycle(postCreateCommand=rec("postCreate2"),
                              postStartCommand=rec("postStart2"),
                              postAttachCommand=rec("postAttach2")))
    p = ws.d("up", folder)
    assert f"prebuild: starting from snapshot {ref}" in p.stdout
    assert ran(ws, folder) == ["onCreate", "updateContent", "postCreate2", "postStart2",
                               "postAttach2"]
    ws.d("rm", "-f", folder)
    # onCreate changed: a miss that says why and names the snapshot; everything runs
    rewrite(folder, lifecycle(onCreateCommand=rec("onCreateB")))
    p = ws.d("up", "--json", folder)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert not out.get("prebuild")
    assert f"prebuild: not used: the configuration changed since snapshot {ref}" in p.stderr
    assert ran(ws, folder) == ["onCreateB", "updateContent", "postCreate", "postStart",
                               "postAttach"]
    ws.d("rm", "-f", folder)
    # another property (containerEnv) is part of the configuration as well
    rewrite(folder, lifecycle(containerEnv={"X": "1"}))
    p = ws.d("up", folder)
    assert f"prebuild: not used: the configuration changed since snapshot {ref}" in p.stdout
    ws.d("rm", "-f", folder)
    # no prebuild at all for another configuration file
    other = ws.make("pbnone", lifecycle(name="pbnone"))
    p = ws.d("up", other)
    assert f"prebuild: none for {other / '.devcontainer' / 'devcontainer.json'}" in p.stdout
    assert ran(ws, other)[:2] == ["onCreate", "updateContent"]
    # back to the prebuilt configuration: a hit again
    rewrite(folder, lifecycle())
    p = ws.d("up", folder)
    assert f"prebuild: starting from snapshot {ref}" in p.stdout
    assert cfg.is_file()


def test_image_changed_misses(ws):
    """Same configuration, but the image behind the tag has another digest: a miss."""
    rootfs = ws.root / "rootfs"
    subprocess.run(["bash", str(ws.d.binary.parents[2] / "tools" / "make-busybox-rootfs.sh"),
                    str(rootfs)], check=True, capture_output=True)
    ws.d("import", rootfs, "busybox:moving")
    folder = ws.make("pbimg", lifecycle(image="busybox:moving"))
    _, ref = prebuild(ws, folder)
    (rootfs / "etc" / "extra").write_text("new\n")
    ws.d("import", rootfs, "busybox:moving")  # the tag moves to a new image
    p = ws.d("up", folder, check=False)
    assert p.returncode == 0, p.stderr
    assert "prebuild: not used: image busybox:moving is sha256:" in p.stdout
    assert f"snapshot {ref} was made from sha256:" in p.stdout
    assert ws.d("exec", folder, "--", "cat", "/etc/extra").stdout == "new\n"
    assert ran(ws, folder)[:2] == ["onCreate", "updateContent"]


def test_no_prebuild(ws):
    folder = ws.make("pbno", lifecycle())
    _, ref = prebuild(ws, folder)
    p = ws.d("up", "--json", "--no-prebuild", folder)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert not out.get("prebuild")
    assert "prebuild:" not in p.stderr  # asked for: nothing to say
    assert ran(ws, folder) == ["onCreate", "updateContent", "postCreate", "postStart",
                               "postAttach"]
    assert [c["image"] for c in containers_of(ws, folder)] == [IMAGE]
    [row] = prebuilds_of(ws, folder)
    assert not row.get("usedBy")


def test_failing_prebuild_leaves_nothing(ws):
    folder = ws.make("pbfail", lifecycle(updateContentCommand="echo broken >&2; exit 7"))
    p = ws.d("prebuild", folder, check=1)
    assert "updateContentCommand failed with exit code 7" in p.stderr
    assert len([l for l in p.stderr.splitlines() if l.startswith("dcfs:")]) == 1
    assert prebuilds_of(ws, folder) == []
    assert containers_of(ws, folder) == []
    assert "0 problems" in ws.d("fsck").stdout


def test_keep_usage_errors(ws):
    folder = ws.make("pbusage", lifecycle())
    for bad in ("0", "6", "-1", "two", ""):
        p = ws.d("prebuild", "--keep", bad, folder, check=2)
        assert p.stderr.startswith("dcfs: prebuild: ") or "usage" in p.stderr
    ws.d("prebuild", "--bogus", folder, check=2)
    ws.d("prebuild", folder, "extra", check=2)
    assert prebuilds_of(ws, folder) == []


def test_retention_and_prune(ws):
    folder = ws.make("pbkeep", lifecycle())
    # a user's snapshot of the same configuration is not a prebuild: never made reclaimable
    up(ws.d, folder)
    user = ws.d("snapshot", "--tag", "mine/pbkeep:user", folder).stdout.split()[1].rstrip(":")
    ws.d("rm", "-f", folder)
    refs = []
    for i in range(3):  # default --keep 2
        p, ref = prebuild(ws, folder)
        refs.append(ref)
    assert len(set(refs)) == 3
    assert "1 more now reclaimable" in p.stdout
    rows = {s["ref"]: s for s in snaps(ws)}
    assert [rows[r]["reclaimable"] for r in refs] == [True, False, False]
    assert rows[user]["reclaimable"] is False
    # up uses the newest
    p = ws.d("up", folder)
    assert f"prebuild: starting from snapshot {refs[2]}" in p.stdout
    # --keep 1: only the newest stays; the one in use by the container becomes reclaimable
    p, newest = prebuild(ws, folder, "--keep", "1")
    rows = {s["ref"]: s for s in snaps(ws)}
    assert rows[newest]["reclaimable"] is False
    assert all(rows[r]["reclaimable"] for r in refs)
    assert rows[refs[2]].get("usedBy")
    # du: the Snapshots row and the per-configuration list
    du = ws.d.json("du", "--json")
    listed = {s["ref"]: s for s in du["snapshotList"]}
    assert set(refs + [newest, user]) <= set(listed)
    assert du["snapshots"]["total"] >= 5
    assert du["snapshots"]["active"] >= 1
    assert du["snapshots"]["reclaimable"] > 0
    text = ws.d("du").stdout
    assert re.search(r"^Snapshots\s", text, re.M) and "Snapshots per configuration" in text
    # prune removes the reclaimable ones not used by a container
    ws.d("prune")
    left = {s["ref"] for s in snaps(ws)}
    assert refs[0] not in left and refs[1] not in left
    assert refs[2] in left, "prune removed a snapshot a container uses"
    assert newest in left and user in left
    assert ws.d("exec", folder, "--", "cat", "/opt/tool/v").stdout == "built\n"
    # once the container is gone, the next prune takes it
    ws.d("rm", "-f", folder)
    ws.d("prune")
    left = {s["ref"] for s in snaps(ws)}
    assert refs[2] not in left and newest in left and user in left
    assert "0 problems" in ws.d("fsck").stdout


def test_keep_is_per_configuration(ws):
    a = ws.make("pbka", lifecycle())
    b = ws.make("pbkb", lifecycle())
    _, ra = prebuild(ws, a, "--keep", "1")
    _, rb1 = prebuild(ws, b, "--keep", "1")
    _, rb2 = prebuild(ws, b, "--keep", "1")
    rows = {s["ref"]: s for s in snaps(ws)}
    assert rows[ra]["reclaimable"] is False, "another folder's prebuild was released"
    assert rows[rb1]["reclaimable"] is True and rows[rb2]["reclaimable"] is False


def start_prebuild(ws, folder, *args):
    return ws.d.popen("prebuild", *args, folder, stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True)


def test_concurrent_prebuilds_coalesce(ws):
    folder = ws.make("pbslow", lifecycle(onCreateCommand=rec("onCreate") + " && sleep 2"))
    procs = [start_prebuild(ws, folder)]
    time.sleep(0.7)  # the first one runs
    for _ in range(3):
        procs.append(start_prebuild(ws, folder))
        time.sleep(0.2)
    outs = [p.communicate(timeout=120) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes == [0, 0, 0, 0], outs
    superseded = [i for i, (o, _) in enumerate(outs)
                  if o.startswith("prebuild: superseded by a newer request")]
    made = [i for i, (o, _) in enumerate(outs) if o.startswith("snapshot ")]
    assert sorted(superseded + made) == [0, 1, 2, 3], outs
    assert 0 in made, "the first request should run"
    assert 3 in made, "the latest request should run"
    assert superseded == [1, 2], outs
    assert len(prebuilds_of(ws, folder)) == 2
    assert containers_of(ws, folder) == []


def test_other_configuration_not_blocked(ws):
    slow = ws.make("pbslow2", lifecycle(onCreateCommand=rec("onCreate") + " && sleep 4"))
    fast = ws.make("pbfast", lifecycle())
    ps = start_prebuild(ws, slow)
    time.sleep(0.7)
    pf = start_prebuild(ws, fast)
    pf.communicate(timeout=120)
    fast_done_while_slow_runs = ps.poll() is None
    ps.communicate(timeout=120)
    assert pf.returncode == 0 and ps.returncode == 0
    assert fast_done_while_slow_runs, "a prebuild of another configuration waited for the slow one"
    assert len(prebuilds_of(ws, fast)) == 1 and len(prebuilds_of(ws, slow)) == 1


def test_config_option(ws):
    folder = ws.make("pbcfg", lifecycle(name="pbcfg"))
    alt = folder / ".devcontainer" / "alt.json"
    alt.write_text(json.dumps(lifecycle(name="pbcfg", onCreateCommand=rec("onCreateAlt"))))
    _, ref = prebuild(ws, folder, "--config", alt)
    [row] = prebuilds_of(ws, folder)
    assert row["configFile"] == str(alt)
    # the default configuration file has no prebuild
    p = ws.d("up", folder)
    assert "prebuild: none for" in p.stdout
    ws.d("rm", "-f", folder)
    p = ws.d("up", "--config", alt, folder)
    assert f"prebuild: starting from snapshot {ref}" in p.stdout
    assert ran(ws, folder)[:2] == ["onCreateAlt", "updateContent"]


def test_killed_prebuild_then_prebuild_again(ws):
    """A prebuild killed during onCreateCommand leaves a half-made container; the next prebuild
    must not snapshot what the killed one left (onCreate runs once, in a fresh container)."""
    folder = ws.make("pbkill", lifecycle(
        onCreateCommand=rec("onCreate") + " && sleep 3 && " + rec("onCreateEnd")))
    p = start_prebuild(ws, folder)
    time.sleep(1.5)
    p.kill()
    p.communicate()
    _, ref = prebuild(ws, folder)
    mnt = ws.root / "mnt"
    mnt.mkdir()
    ws.d("mount", "--image", ref, mnt)
    try:
        got = (mnt / RAN.lstrip("/")).read_text().split()
    finally:
        ws.d("umount", mnt)
    assert got == ["onCreate", "onCreateEnd", "updateContent"]
    assert containers_of(ws, folder) == []
    assert "0 problems" in ws.d("fsck").stdout


def test_same_configuration_in_another_folder(ws):
    """The key leaves out the configuration file's path: an identical configuration in another
    folder starts from the first folder's prebuild."""
    a = ws.make("pbsharea", lifecycle(name="shared"))
    b = ws.make("pbshareb", lifecycle(name="shared"))
    _, ref = prebuild(ws, a)
    p = ws.d("up", b)
    assert f"prebuild: starting from snapshot {ref}" in p.stdout
    assert ran(ws, b)[:2] == ["onCreate", "updateContent"]


def test_folder_variables_are_part_of_the_key(ws):
    config = lifecycle(name="vars",
                       onCreateCommand="echo ${localWorkspaceFolderBasename} > /etc/who")
    a = ws.make("pbvara", config)
    b = ws.make("pbvarb", config)
    prebuild(ws, a)
    ws.d("up", b)
    assert ws.d("exec", b, "--", "cat", "/etc/who").stdout == "pbvarb\n"
