"""Prebuilds include the workspace: a prebuild of a git checkout runs on a copy-on-write view of
the folder (the folder is not written), what its onCreateCommand and updateContentCommand change
in the workspace is stored with the snapshot, and `up` of another checkout of the same commit
brings those changes in without overwriting the user's files. The git tree of HEAD is part of
the prebuild key: a new commit misses, and `up` says why. `du` counts the workspace layer, and
removing the snapshot removes it.

Same fixtures as test_up.py (busybox:demo imported once per module, containers removed in
teardown); needs root, /dev/fuse, runc and git.
"""
import json
import os
import shutil
import sqlite3
import stat
import subprocess

import pytest

from test_up import IMAGE, env, pytestmark, up, ws  # noqa: F401 (fixtures, marks)

pytestmark = pytestmark + [pytest.mark.skipif(shutil.which("git") is None, reason="needs git")]

BIG = 200000  # bytes of node_modules/big: what du must count as the snapshot's

CONFIG = {
    "image": IMAGE,
    "onCreateCommand": "mkdir -p node_modules && echo dep > node_modules/x"
                       " && chmod 755 node_modules/x && ln -sf node_modules/x linked"
                       f" && head -c {BIG} /dev/urandom > node_modules/big"
                       " && echo built >> README && rm -f obsolete.txt",
    "updateContentCommand": "echo updated > build.out",
    "postCreateCommand": "echo post > post.out",
}


# root works on folders uid 1000 owns: no "dubious ownership" refusal, in git's children too
GIT_ENV = dict(os.environ, GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="safe.directory",
               GIT_CONFIG_VALUE_0="*")


def git(folder, *args):
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True,
                          text=True, env=GIT_ENV).stdout


def chown_tree(folder, uid=1000):
    for root, dirs, files in os.walk(folder):
        for n in [root] + [os.path.join(root, x) for x in dirs + files]:
            os.lchown(n, uid, uid)


def repo(ws, name):
    """A git repository with the configuration, README and obsolete.txt, committed."""
    folder = ws.make(name, CONFIG)
    (folder / "README").write_text("hello\n")
    (folder / "obsolete.txt").write_text("old\n")
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "one")
    chown_tree(folder)
    return folder


def clone(ws, src, name):
    dst = ws.root / name
    chown_tree(src, 0)  # git's upload-pack takes no safe.directory but from the user's config
    subprocess.run(["git", "clone", "-q", str(src), str(dst)], check=True, capture_output=True,
                   env=GIT_ENV)
    chown_tree(src)
    chown_tree(dst)
    ws.made.append(dst)  # its container is removed in teardown
    return dst


def tree(folder):
    """Every path under `folder`: type, mode, owner, and the bytes or link target."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                what = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    what = f.read()
            else:
                what = None
            out[os.path.relpath(p, folder)] = (st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns,
                                               what)
    return out


def prebuild(ws, folder):
    """The prebuild's output and its row in `dcfs snapshots` (the newest of the folder)."""
    p = ws.d("prebuild", folder)
    snap = [s for s in json.loads(ws.d("snapshots", "--json").stdout)
            if s["origin"] == "prebuild" and s["folder"] == str(folder)][0]
    return p, snap


def workspace_rows(ws):
    db = sqlite3.connect(str(ws.store.path / "catalog.db"))
    try:
        return [r[0] for r in db.execute("SELECT path FROM workspaces")]
    finally:
        db.close()


def workspace_layers(ws, ref):
    db = sqlite3.connect(str(ws.store.path / "catalog.db"))
    try:
        return db.execute("SELECT count(*) FROM layers WHERE source = ?",
                          (f"workspace:{ref}",)).fetchone()[0]
    finally:
        db.close()


def test_prebuild_workspace_reaches_another_checkout(ws):
    a = repo(ws, "a")
    before = tree(a)
    p, snap = prebuild(ws, a)
    assert "workspace changes stored with it (git tree" in p.stdout, p.stdout
    head = git(a, "rev-parse", "HEAD^{tree}").strip()
    assert snap["workspaceTree"] == head
    assert snap["workspaceSize"] >= BIG
    # the folder the prebuild ran from is untouched: no node_modules, README as committed
    assert tree(a) == before
    # the store has the workspace layer; du counts it with the snapshots
    assert workspace_layers(ws, snap["ref"]) == 1
    # and no workspace of the prebuild's gone overlay (du's Workspaces row)
    assert [p for p in workspace_rows(ws) if "workspace-cow" in p] == []
    du = ws.d.json("du", "--json")
    assert du["snapshots"]["size"] >= snap["size"] + BIG, du["snapshots"]
    [listed] = [s for s in du["snapshotList"] if s["ref"] == snap["ref"]]
    assert listed["workspaceSize"] == snap["workspaceSize"]

    # another checkout of the same commit, with a file of the user's where the prebuild wrote one
    b = clone(ws, a, "b")
    (b / "build.out").write_text("mine\n")
    os.lchown(b / "build.out", 1000, 1000)
    out = up(ws.d, b)
    assert out["prebuild"] == snap["ref"]
    assert (b / "node_modules" / "x").read_text() == "dep\n"
    assert stat.S_IMODE(os.lstat(b / "node_modules" / "x").st_mode) == 0o755
    assert os.lstat(b / "node_modules" / "x").st_uid == 1000
    assert os.path.getsize(b / "node_modules" / "big") == BIG
    assert os.readlink(b / "linked") == "node_modules/x"
    # a committed file the prebuild changed, unchanged in the checkout: the prebuild's version
    assert (b / "README").read_text() == "hello\nbuilt\n"
    # the user's own file is kept; a deletion deletes nothing of the checkout's
    assert (b / "build.out").read_text() == "mine\n"
    assert (b / "obsolete.txt").read_text() == "old\n"
    # onCreate and updateContent did not run again; postCreate did, in the workspace
    assert (b / "post.out").read_text() == "post\n"
    assert ws.d("exec", b, "--", "cat", "node_modules/x").stdout == "dep\n"


def test_up_notes_how_many_were_skipped(ws):
    a = repo(ws, "a")
    prebuild(ws, a)
    b = clone(ws, a, "b")
    (b / "build.out").write_text("mine\n")
    (b / "README").write_text("my edit\n")  # an uncommitted change: the user's
    p = ws.d("up", b)
    assert "prebuild: starting from snapshot" in p.stdout, p.stdout
    # added: node_modules, x, big, linked; skipped: build.out, README, obsolete.txt (deleted)
    assert (f"prebuild: workspace changes brought into {b}: 4 added, 0 updated (committed "
            "files the prebuild changed), 3 skipped") in p.stdout, p.stdout
    assert (b / "README").read_text() == "my edit\n"


def test_new_commit_misses_and_says_why(ws):
    a = repo(ws, "a")
    _, snap = prebuild(ws, a)
    old = git(a, "rev-parse", "HEAD^{tree}").strip()
    b = clone(ws, a, "b")
    (b / "README").write_text("changed\n")
    git(b, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qam", "two")
    new = git(b, "rev-parse", "HEAD^{tree}").strip()
    p = ws.d("up", b)
    assert (f"prebuild: not used: the newest for this configuration (snapshot {snap['ref']}) "
            f"was made from git tree {old[:12]}, the checkout is at {new[:12]}") in p.stdout, \
        p.stdout
    assert "starting from" not in p.stdout
    # onCreateCommand ran in the checkout itself
    assert (b / "node_modules" / "x").read_text() == "dep\n"


def test_removing_the_snapshot_removes_its_workspace_layer(ws):
    a = repo(ws, "a")
    _, snap = prebuild(ws, a)
    assert workspace_layers(ws, snap["ref"]) == 1
    size = ws.d.json("du", "--json")["snapshots"]["size"]
    assert size >= BIG
    ws.d("rmi", snap["ref"])
    ws.d("prune")
    assert workspace_layers(ws, snap["ref"]) == 0
    assert ws.d.json("du", "--json")["snapshots"]["size"] <= size - BIG
    # fsck finds the layer references right (a workspace layer counts as referenced)
    ws.d("fsck")


def test_fsck_keeps_a_workspace_layer(ws):
    a = repo(ws, "a")
    _, snap = prebuild(ws, a)
    p = ws.d("fsck")
    assert "layer references" not in p.stdout, p.stdout
    ws.d("prune")
    assert workspace_layers(ws, snap["ref"]) == 1


def test_no_git_repository_keeps_todays_behaviour(ws):
    folder = ws.make("plain", {"image": IMAGE, "onCreateCommand": "echo made > made.txt"})
    p, snap = prebuild(ws, folder)
    assert "the folder is no git repository" in p.stdout, p.stdout
    assert snap["workspaceTree"] == "" and snap["workspaceSize"] == 0
    p = ws.d("up", folder)
    assert f"prebuild: {folder} is no git repository: the prebuild has no workspace" in p.stdout


def test_retention_purges_the_workspace_layer(ws):
    a = repo(ws, "a")
    _, first = prebuild(ws, a)
    p = ws.d("prebuild", "--keep", "1", a)
    assert "1 more now reclaimable" in p.stdout, p.stdout
    ws.d("prune")
    assert workspace_layers(ws, first["ref"]) == 0
    [kept] = [s for s in json.loads(ws.d("snapshots", "--json").stdout)
              if s["origin"] == "prebuild" and s["folder"] == str(a)]
    assert workspace_layers(ws, kept["ref"]) == 1


@pytest.mark.skipif(not shutil.which("docker-registry"), reason="needs docker-registry")
def test_pulled_prebuild_runs_the_workspace_commands_again(ws, tmp_path):
    """Workspace changes do not travel through a registry yet: a pulled prebuild of a git
    checkout is used for its root, and onCreate and updateContent run again in the checkout."""
    from conftest import Dcfs, Store, dcfs_binary
    from registry import Registry
    a = repo(ws, "a")
    _, snap = prebuild(ws, a)
    reg = Registry(tmp_path / "registry").start()
    other = Dcfs(dcfs_binary(), Store(tmp_path / "other"))
    b = None
    try:
        ref = f"{reg.host}/team/ws-prebuild:1"
        ws.d("push", snap["ref"], ref)
        # the other store has the same base image (the same rootfs: the same digest)
        other("import", ws.root.parent / "rootfs", IMAGE)
        p = other("pull", ref)
        assert "is a dcfs snapshot" in p.stdout, p.stdout
        b = clone(ws, a, "b")
        p = other("up", b)
        assert f"prebuild: starting from snapshot {ref}" in p.stdout, p.stdout
        assert (f"prebuild: snapshot {ref} came without its workspace changes: onCreateCommand "
                "and updateContentCommand run again") in p.stdout, p.stdout
        assert (b / "node_modules" / "x").read_text() == "dep\n"
        assert (b / "build.out").read_text() == "updated\n"
    finally:
        if b is not None:
            other("rm", "-f", b, check=False)
        reg.stop()


def test_rebuild_full_purges_the_workspace_layer(ws):
    a = repo(ws, "a")
    _, snap = prebuild(ws, a)
    # up in the prebuild's own folder: the same tree, so its changes come in here too
    p = ws.d("up", a)
    assert "prebuild: workspace changes brought into" in p.stdout, p.stdout
    assert (a / "node_modules" / "x").read_text() == "dep\n"
    ws.d("rebuild", "--full", "--yes", a)
    assert snap["ref"] not in ws.d("snapshots", "-q").stdout.split()
    assert workspace_layers(ws, snap["ref"]) == 0
