"""dcfs up / exec / ls / down / rm: dev containers on runc, from a busybox image in the store.

A busybox root filesystem (tools/make-busybox-rootfs.sh) is imported once per module into a
temporary store; each test makes workspace folders (owned by uid 1000, as a developer's would
be) with a .devcontainer/devcontainer.json, and removes its containers with `dcfs rm -f` in
teardown. Needs root, /dev/fuse and runc (skipped otherwise).
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, Dcfs, Store, dcfs_binary

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="needs /dev/fuse"),
    pytest.mark.skipif(shutil.which("runc") is None, reason="needs runc (apt-get install runc)"),
]

IMAGE = "busybox:demo"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """(Dcfs, Store, base folder) with busybox:demo imported."""
    base = tmp_path_factory.mktemp("up")
    d, store, _ = busybox_store(base)
    return d, store, base


def busybox_store(base):
    """(Dcfs, Store, rootfs) for a new store in base/store with a busybox rootfs made in
    base/rootfs and imported as busybox:demo."""
    rootfs = base / "rootfs"
    subprocess.run(["bash", str(REPO / "tools" / "make-busybox-rootfs.sh"), str(rootfs)],
                   check=True, capture_output=True)
    store = Store(base / "store")
    d = Dcfs(dcfs_binary(), store)
    d("import", rootfs, IMAGE)
    return d, store, rootfs


class Workspaces:
    def __init__(self, env, request):
        self.d, self.store, base = env
        self.root = base / request.node.name
        self.root.mkdir()
        self.made = []

    def make(self, name, config=None, text=None):
        """FOLDER/.devcontainer/devcontainer.json of `config`, or of the bytes `text`."""
        folder = self.root / name
        (folder / ".devcontainer").mkdir(parents=True, exist_ok=True)
        f = folder / ".devcontainer" / "devcontainer.json"
        if text is not None:
            f.write_bytes(text)
        else:
            f.write_text(json.dumps(config))
        for p in (folder, folder / ".devcontainer"):
            os.chown(p, 1000, 1000)
        if folder not in self.made:
            self.made.append(folder)
        return folder

    def cleanup(self):
        for f in self.made:
            self.d("rm", "-f", f, check=False)


@pytest.fixture
def ws(env, request):
    w = Workspaces(env, request)
    yield w
    w.cleanup()


RAN = "/etc/ran"  # in the container, not in the workspace


def rec(name):
    """A lifecycle command that appends `name` to RAN."""
    return f"echo {name} >> {RAN}"


def lifecycle(on_create="", **extra):
    """A config of busybox:demo whose five lifecycle commands each record their name in RAN
    (onCreateCommand followed by `on_create`), updated with `extra`."""
    config = {
        "image": IMAGE,
        "onCreateCommand": rec("onCreate") + on_create,
        "updateContentCommand": rec("updateContent"),
        "postCreateCommand": rec("postCreate"),
        "postStartCommand": rec("postStart"),
        "postAttachCommand": rec("postAttach"),
    }
    config.update(extra)
    return config


def up(d, folder, check=True):
    p = d("up", "--json", folder, check=check)
    return json.loads(p.stdout.strip().splitlines()[-1]) if p.returncode == 0 else p


def runc_status(store, cid):
    p = subprocess.run(["runc", "--root", str(store.path / "run" / "runc"), "state", cid],
                       capture_output=True, text=True)
    return json.loads(p.stdout)["status"] if p.returncode == 0 else None


def record(log):
    return f"echo {log} >> /workspaces/%s/order.txt"


def test_up_exec_and_ownership(ws):
    folder = ws.make("alpha", {"image": IMAGE, "remoteUser": "vscode"})
    (folder / ".devcontainer" / "config").mkdir()
    out = up(ws.d, folder)
    assert out["outcome"] == "success"
    assert out["remoteUser"] == "vscode"
    assert out["remoteWorkspaceFolder"] == "/workspaces/alpha"
    assert runc_status(ws.store, out["containerId"]) == "running"
    # a file written by uid 1000 in the workspace belongs to uid 1000 on the host
    p = ws.d("exec", folder, "--", "sh", "-c", "id -u; pwd; echo hi > made-inside")
    assert p.stdout.split() == ["1000", "/workspaces/alpha"]
    st = os.stat(folder / "made-inside")
    assert (st.st_uid, st.st_gid) == (1000, 1000)
    assert (folder / "made-inside").read_text() == "hi\n"
    # $HOME/config points at the workspace's .devcontainer/config, which exists on the host
    p = ws.d("exec", folder, "--", "sh", "-c", 'readlink "$HOME/config"; test -d "$HOME/config/"')
    assert p.stdout.strip() == "/workspaces/alpha/.devcontainer/config"
    assert (folder / ".devcontainer" / "config").is_dir()
    # exec returns the command's exit code
    assert ws.d("exec", folder, "--", "sh", "-c", "exit 42", check=42).returncode == 42


def test_lifecycle_order_and_run_once(ws):
    name = "beta"
    folder = ws.root / name
    config = {
        "image": IMAGE,
        "remoteUser": "vscode",
        # on the host, in the folder, as the caller (root): hand the file to uid 1000
        "initializeCommand": "echo initialize >> order.txt && chown 1000:1000 order.txt",
        "onCreateCommand": record("onCreate") % name,
        "updateContentCommand": ["/bin/sh", "-c", record("updateContent") % name],
        "postCreateCommand": {"a": record("postCreate") % name, "b": "true"},
        "postStartCommand": record("postStart") % name,
        "postAttachCommand": record("postAttach") % name,
    }
    ws.make(name, config)
    order = folder / "order.txt"
    up(ws.d, folder)
    assert order.read_text().split() == [
        "initialize", "onCreate", "updateContent", "postCreate", "postStart", "postAttach"]
    order.unlink()
    up(ws.d, folder)  # running: no onCreate, no postStart
    assert order.read_text().split() == ["initialize", "postAttach"]
    order.unlink()
    assert ws.d("down", folder).stdout.startswith("stopped ")
    ls = {c["folder"]: c for c in ws.d.json("ls", "--json")}
    assert ls[str(folder)]["state"] == "stopped"
    up(ws.d, folder)  # started again: postStart, but still no onCreate
    assert order.read_text().split() == ["initialize", "postStart", "postAttach"]


def test_failing_post_create(ws):
    folder = ws.make("gamma", {"image": IMAGE,
                               "postCreateCommand": "echo first; echo last >&2; exit 3"})
    p = up(ws.d, folder, check=1)
    lines = [l for l in p.stderr.splitlines() if l.startswith("dcfs:")]
    assert len(lines) == 1
    # the output's last lines; stdout and stderr may arrive in either order
    head = "dcfs: up: postCreateCommand failed with exit code 3: "
    assert lines[0] in (head + "first | last", head + "last | first")
    # not marked as done: the next up runs it again
    assert "exit code 3" in up(ws.d, folder, check=1).stderr


def test_down_up_keeps_upper_and_rm(ws):
    folder = ws.make("delta", {"image": IMAGE})
    cid = up(ws.d, folder)["containerId"]
    ws.d("exec", folder, "--", "sh", "-c", "echo kept > /etc/marker")
    ws.d("down", folder)
    assert runc_status(ws.store, cid) is None
    # what the container wrote counts in its upper_bytes (and so in `dcfs du`), as does the
    # caller's ~/.gitconfig that up copied into the remote user's home
    gitconfig = Path.home() / ".gitconfig"
    extra = gitconfig.stat().st_size if gitconfig.is_file() else 0
    assert ws.store.scalar("SELECT upper_bytes FROM containers WHERE id = ?", (cid,)) == 5 + extra
    assert not os.path.ismount(ws.store.path / "containers" / cid / "rootfs")
    assert up(ws.d, folder)["containerId"] == cid
    assert ws.d("exec", folder, "--", "cat", "/etc/marker").stdout == "kept\n"
    # rm refuses a running container, -f stops it; the workspace folder stays
    assert "is running" in ws.d("rm", folder, check=1).stderr
    ws.d("rm", "-f", folder)
    assert not (ws.store.path / "containers" / cid).exists()
    assert ws.store.scalar("SELECT count(*) FROM containers WHERE id = ?", (cid,)) == 0
    assert (folder / ".devcontainer" / "devcontainer.json").is_file()


def test_two_containers(ws):
    a = ws.make("one", {"image": IMAGE})
    b = ws.make("two", {"image": IMAGE, "containerEnv": {"WHO": "two"}})
    ia, ib = up(ws.d, a)["containerId"], up(ws.d, b)["containerId"]
    assert ia != ib
    assert runc_status(ws.store, ia) == runc_status(ws.store, ib) == "running"
    assert ws.d("exec", b, "--", "sh", "-c", "echo $WHO").stdout == "two\n"
    names = {c["folder"]: c["state"] for c in ws.d.json("ls", "--json")}
    assert names[str(a)] == names[str(b)] == "running"
    table = ws.d("ls").stdout.splitlines()
    assert table[0].split()[:2] == ["NAME", "CONTAINER"]


def test_bundle_settings(ws):
    """What the OCI bundle holds: rlimits within the host's, securityOpt, capAdd, mounts."""
    import resource
    (ws.root / "host").mkdir()
    (ws.root / "host" / "f").write_text("from the host\n")
    folder = ws.make("zeta", {
        "image": IMAGE, "securityOpt": ["no-new-privileges"], "capAdd": ["SYS_PTRACE"],
        "mounts": [f"source={ws.root / 'host'},target=/host,type=bind,readonly",
                   {"type": "volume", "source": "zeta-cache", "target": "/cache"}]})
    cid = up(ws.d, folder)["containerId"]
    spec = json.loads((ws.store.path / "containers" / cid / "bundle" / "config.json").read_text())
    proc = spec["process"]
    assert proc["noNewPrivileges"] is True
    assert "CAP_SYS_PTRACE" in proc["capabilities"]["bounding"]
    assert "CAP_SYS_ADMIN" not in proc["capabilities"]["bounding"]
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nofile = [r for r in proc["rlimits"] if r["type"] == "RLIMIT_NOFILE"][0]
    assert nofile["hard"] <= hard
    assert not any(ns["type"] == "network" for ns in spec["linux"]["namespaces"])
    p = ws.d("exec", folder, "--", "sh", "-c",
             "cat /host/f; echo v > /cache/v; touch /host/g 2>/dev/null || echo ro")
    assert p.stdout == "from the host\nro\n"
    assert (ws.store.path / "volumes" / "zeta-cache" / "v").read_text() == "v\n"
    # --remove-existing-container: a new container; the volume stays
    p = ws.d("up", "--json", "--remove-existing-container", folder)
    new = json.loads(p.stdout)["containerId"]
    assert new != cid and not (ws.store.path / "containers" / cid).exists()
    assert ws.d("exec", folder, "--", "cat", "/cache/v").stdout == "v\n"


def test_missing_image(ws):
    """A missing image is pulled; when that fails, one line says why and how to import it."""
    image = "127.0.0.1:1/missing/image:1"  # nothing listens on port 1: refused at once
    folder = ws.make("eps", {"image": image})
    p = ws.d("up", folder, check=1)
    err = p.stderr.strip()
    assert "\n" not in err, err
    assert err.startswith(f"dcfs: up: image '{image}' is not in the store and pulling it failed: "), err
    assert "Couldn't connect" in err and f"'dcfs import DIR|TARBALL {image}'" in err, err


def test_volumes_in_du(ws):
    """A named volume's bytes are in `dcfs du`: active while a running container binds it,
    reclaimable once none does, gone with its folder. (Other tests' volumes share the store:
    the figures are compared with those before.)"""
    def volumes():
        v = json.loads(ws.d("du", "--json").stdout)["volumes"]
        return (v["total"], v["active"], v["size"], v["reclaimable"])
    t0, a0, s0, r0 = volumes()
    folder = ws.make("vols", {"image": IMAGE,
                              "mounts": ["source=du-vol,target=/data,type=volume"],
                              "postCreateCommand": "head -c 300000 /dev/zero > /data/f"})
    up(ws.d, folder)
    assert volumes() == (t0 + 1, a0 + 1, s0 + 300000, r0)
    ws.d("down", "-f", folder)
    assert volumes() == (t0 + 1, a0, s0 + 300000, r0 + 300000)
    shutil.rmtree(ws.store.path / "volumes" / "du-vol")
    up(ws.d, folder)  # the next start sees the folder gone, and makes it anew (empty)
    assert volumes() == (t0 + 1, a0 + 1, s0, r0)


def test_store_holds_no_way_into_the_workspace(ws):
    """The workspace view is mounted outside the store (/run/dcfs/...): walking the store of a
    running container, as `rm -rf STORE` or a backup would, never reaches the user's folder."""
    folder = ws.make("norm", {"image": IMAGE})
    (folder / "precious-marker").write_text("keep me\n")
    cid = up(ws.d, folder)["containerId"]
    assert ws.d("exec", folder, "--", "cat", "/workspaces/norm/precious-marker").stdout == \
        "keep me\n"
    for dirpath, dirnames, filenames in os.walk(ws.store.path):
        assert "precious-marker" not in filenames, dirpath
    mounts = [line.split()[1] for line in open("/proc/mounts")]
    assert any(m.startswith("/run/dcfs/") and m.endswith("/workspace") for m in mounts)
    assert list(Path("/run/dcfs").glob(f"*/{cid}/workspace"))
    ws.d("rm", "-f", folder)
    assert (folder / "precious-marker").read_text() == "keep me\n"
    assert not list(Path("/run/dcfs").glob(f"*/{cid}"))  # rm takes the mount point too


def test_rm_never_deletes_through_a_mount(ws, tmp_path):
    """Something mounted inside a container's folder (here a bind mount of another folder; a
    workspace view an older dcfs mounted there) stops `dcfs rm` with one line; nothing behind
    the mount is deleted."""
    folder = ws.make("bound", {"image": IMAGE})
    cid = up(ws.d, folder)["containerId"]
    ws.d("down", "-f", folder)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious").write_text("keep\n")
    inside = ws.store.path / "containers" / cid / "bundle" / "mnt"
    inside.mkdir()
    subprocess.run(["mount", "--bind", str(victim), str(inside)], check=True)
    try:
        p = ws.d("rm", "-f", folder, check=1)
        assert p.stderr.count("\n") == 1 and "busy" in p.stderr, p.stderr
        assert (victim / "precious").read_text() == "keep\n"
    finally:
        subprocess.run(["umount", str(inside)], check=False)
    ws.d("rm", "-f", folder)
    assert (victim / "precious").read_text() == "keep\n"
