"""dcfs up / exec / ls / down / rm / rebuild / du with `--engine podman|docker`: the dev
container runs on a container engine reached through its Engine API at $DOCKER_HOST, the
workspace still dcfs's FUSE view bound into it.

Each engine starts once per module (engine_env.py: a private `podman system service`, a private
dockerd) with a busybox image imported into it; each test makes workspace folders (owned by uid
1000) and removes its containers with `dcfs rm -f`. Containers on dockerd run with network host
(it has no bridge). Needs root and /dev/fuse; an engine that cannot start on the machine skips
its tests, saying why.
"""
import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import Dcfs, Store, dcfs_binary
from engine_env import BUSYBOX_REF, EngineUnavailable, busybox_rootfs, engine_session

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="needs /dev/fuse"),
    pytest.mark.timeout(600),
]

RAN = "/tmp/ran"  # in the container, not in the workspace (remoteUser vscode writes it)


@pytest.fixture(scope="module", params=["podman", "docker"])
def engine(request, tmp_path_factory):
    """The engine (PodmanService or DockerDaemon), started once per module, busybox imported."""
    base = tmp_path_factory.mktemp(request.param)
    gen = engine_session(request.param, base, registry=shutil.which("docker-registry") is not None)
    try:
        eng = next(gen)
    except EngineUnavailable as e:
        pytest.skip(f"{request.param} cannot start here: {e}")
    yield eng
    next(gen, None)


class Workspaces:
    """Folders with a .devcontainer/devcontainer.json, a store of the module, and dcfs run with
    the engine's environment (DOCKER_HOST, CONTAINERS_*)."""

    def __init__(self, engine, root):
        self.engine = engine
        self.root = Path(root)
        self.store = Store(self.root / "store")
        self._d = Dcfs(dcfs_binary(), self.store)
        self.made = []

    def d(self, *args, env=None, **kw):
        return self._d(*args, env=dict(self.engine.env, **(env or {})), **kw)

    def config(self, extra=None):
        """A busybox configuration for this engine (network host on dockerd: no bridge)."""
        c = {"image": BUSYBOX_REF}
        if self.engine.kind == "docker":
            c["runArgs"] = ["--network", "host"]
        for k, v in (extra or {}).items():
            c[k] = c.get(k, []) + v if k == "runArgs" else v
        return c

    def make(self, name, config):
        folder = self.root / name
        (folder / ".devcontainer").mkdir(parents=True, exist_ok=True)
        (folder / ".devcontainer" / "devcontainer.json").write_text(json.dumps(config))
        for p in (folder, folder / ".devcontainer"):
            os.chown(p, 1000, 1000)
        if folder not in self.made:
            self.made.append(folder)
        return folder

    def up(self, folder, *extra, check=True, engine=True):
        args = ["up", "--json"] + (["--engine", self.engine.kind] if engine else [])
        p = self.d(*args, *extra, folder, check=check)
        return json.loads(p.stdout.strip().splitlines()[-1]) if p.returncode == 0 else p

    def ls(self, folder):
        """The `dcfs ls --json` object of `folder`'s container, or None."""
        listed = json.loads(self.d("ls", "--json").stdout)
        return {c["folder"]: c for c in listed}.get(str(folder))

    def engine_id(self, folder):
        entry = self.ls(folder)
        assert entry is not None, f"dcfs ls has no container for {folder}"
        assert entry["engine"] == self.engine.kind
        return entry["engineId"]

    def cleanup(self):
        for f in self.made:
            self.d("rm", "-f", f, check=False)


@pytest.fixture
def ws(engine, tmp_path):
    w = Workspaces(engine, tmp_path)
    yield w
    w.cleanup()
    # every container dcfs made is gone from the engine (dcfs rm -f)
    left = engine.api.containers(f"dcfs.store={w.store.path}")
    for c in left:
        engine.api.call("DELETE", f"/containers/{c['Id']}?force=1")
    assert not left, f"dcfs rm -f left containers in {engine.kind}: {[c['Names'] for c in left]}"


def rec(name):
    return f"echo {name} >> {RAN}"


def lifecycle(**extra):
    c = {"onCreateCommand": rec("onCreate"), "updateContentCommand": rec("updateContent"),
         "postCreateCommand": rec("postCreate"), "postStartCommand": rec("postStart"),
         "postAttachCommand": rec("postAttach")}
    c.update(extra)
    return c


def labels_of(engine, cid):
    return engine.api.inspect(cid)["Config"]["Labels"] or {}


def test_up_exec_down_up_rm(ws):
    folder = ws.make("alpha", ws.config({"remoteUser": "vscode"}))
    (folder / ".devcontainer" / "config").mkdir()
    out = ws.up(folder)
    assert out["outcome"] == "success"
    assert out["remoteUser"] == "vscode"
    assert out["remoteWorkspaceFolder"] == "/workspaces/alpha"
    eid = ws.engine_id(folder)
    api = ws.engine.api
    assert api.state(eid) == "running"
    labels = labels_of(ws.engine, eid)
    assert labels.get("devcontainer.local_folder") == str(folder)
    assert labels.get("devcontainer.config_file") == str(folder / ".devcontainer" /
                                                          "devcontainer.json")
    assert labels.get("dcfs.store") == str(ws.store.path)
    # the workspace is dcfs's view: a file written inside shows on the host, owned by uid 1000
    p = ws.d("exec", folder, "--", "sh", "-c", "id -u; pwd; echo hi > made-inside")
    assert p.stdout.split() == ["1000", "/workspaces/alpha"]
    st = os.stat(folder / "made-inside")
    assert (st.st_uid, st.st_gid, (folder / "made-inside").read_text()) == (1000, 1000, "hi\n")
    (folder / "from-host").write_text("host\n")
    assert ws.d("exec", folder, "--", "cat", "from-host").stdout == "host\n"
    p = ws.d("exec", folder, "--", "sh", "-c", 'readlink "$HOME/config"; test -d "$HOME/config/"')
    assert p.stdout.strip() == "/workspaces/alpha/.devcontainer/config"
    # stdout and stderr kept apart, exit codes kept, stdin relayed
    p = ws.d("exec", folder, "--", "sh", "-c", "echo out; echo err >&2; exit 3", check=3)
    assert (p.stdout, p.stderr) == ("out\n", "err\n")
    # the engine's exit code is kept: podman says 127, docker 126 (as `docker exec` does, with
    # its reason on stdout)
    docker = ws.engine.kind == "docker"
    p = ws.d("exec", folder, "--", "no-such-tool", check=126 if docker else 127)
    assert "no-such-tool" in (p.stdout + p.stderr)
    assert ws.d("exec", folder, "--", "wc", "-c", input="x" * 100000).stdout.strip() == "100000"
    # down: stopped and kept; up: the same container again; rm: gone from the engine
    ws.d("down", folder)
    assert api.state(eid) == "exited"
    assert ws.ls(folder)["state"] == "stopped"
    ws.up(folder)
    assert ws.engine_id(folder) == eid and api.state(eid) == "running"
    assert ws.d("exec", folder, "--", "cat", "made-inside").stdout == "hi\n"
    ws.d("rm", "-f", folder)
    assert api.inspect(eid) is None
    assert ws.ls(folder) is None
    assert (folder / "made-inside").exists()


def test_lifecycle_and_env(ws):
    name = "beta"
    folder = ws.make(name, ws.config(lifecycle(
        remoteUser="vscode", containerEnv={"FROM_CONTAINER_ENV": "c1"},
        remoteEnv={"FROM_REMOTE_ENV": "r1"},
        postCreateCommand=f"echo postCreate >> {RAN}; echo made > /workspaces/{name}/made.txt")))
    ws.up(folder)
    assert ws.d("exec", folder, "--", "cat", RAN).stdout.split() == [
        "onCreate", "updateContent", "postCreate", "postStart", "postAttach"]
    assert (folder / "made.txt").read_text() == "made\n"
    assert os.stat(folder / "made.txt").st_uid == 1000
    p = ws.d("exec", folder, "--", "sh", "-c", 'echo "$FROM_CONTAINER_ENV $FROM_REMOTE_ENV"')
    assert p.stdout == "c1 r1\n"
    eid = ws.engine_id(folder)
    env = ws.engine.api.inspect(eid)["Config"]["Env"]
    assert "FROM_CONTAINER_ENV=c1" in env
    # up again while running: onCreate and postStart do not run again
    ws.up(folder)
    assert ws.d("exec", folder, "--", "cat", RAN).stdout.split()[-1] == "postAttach"
    assert ws.d("exec", folder, "--", "cat", RAN).stdout.split().count("onCreate") == 1


def test_engine_from_customizations(ws):
    folder = ws.make("gamma", ws.config({"customizations": {"dcfs": {"engine":
                                                                      ws.engine.kind}}}))
    ws.up(folder, engine=False)
    eid = ws.engine_id(folder)
    assert ws.engine.api.state(eid) == "running"


def test_rebuild_makes_a_new_container_and_keeps_the_workspace(ws):
    folder = ws.make("delta", ws.config())
    ws.up(folder)
    eid = ws.engine_id(folder)
    ws.d("exec", folder, "--", "sh", "-c", "echo kept > /workspaces/delta/kept.txt")
    ws.d("rebuild", folder)
    new = ws.engine_id(folder)
    assert new != eid
    assert ws.engine.api.inspect(eid) is None
    assert ws.engine.api.state(new) == "running"
    assert ws.d("exec", folder, "--", "cat", "kept.txt").stdout == "kept\n"


def engine_list(ws):
    return json.loads(ws.d("du", "--json").stdout).get("engineList", [])


def test_du_lists_the_container_and_its_volume(ws):
    vol = f"dcfs-test-vol-{ws.engine.kind}"
    folder = ws.make("epsilon", ws.config({"mounts": [f"source={vol},target=/data,type=volume"]}))
    ws.up(folder)
    eid = ws.engine_id(folder)
    ws.d("exec", folder, "--", "sh", "-c", "head -c 300000 /dev/zero > /data/z")
    assert ws.engine.api.volume(vol) is not None
    listed = {(e["engine"], e["kind"]): e for e in engine_list(ws)}
    assert (ws.engine.kind, "container") in listed and (ws.engine.kind, "volume") in listed
    assert listed[(ws.engine.kind, "volume")]["name"] == vol
    assert listed[(ws.engine.kind, "volume")]["size"] >= 300000
    assert all(isinstance(e["size"], int) and e["size"] >= 0 for e in listed.values())
    # rm removes the container, not the volume
    ws.d("rm", "-f", folder)
    assert ws.engine.api.inspect(eid) is None
    assert ws.engine.api.volume(vol) is not None


def test_rebuild_full_removes_the_volume(ws):
    vol = f"dcfs-test-full-{ws.engine.kind}"
    folder = ws.make("zeta", ws.config({"mounts": [f"source={vol},target=/data,type=volume"]}))
    ws.up(folder)
    eid = ws.engine_id(folder)
    ws.d("exec", folder, "--", "sh", "-c", "echo old > /data/old")
    # rebuild --full: the container and the volume go; the new container gets a new volume
    ws.d("rebuild", "--full", "--yes", folder)
    assert ws.engine.api.inspect(eid) is None
    assert ws.engine_id(folder) != eid
    assert ws.d("exec", folder, "--", "sh", "-c", "ls /data").stdout.strip() == ""


def test_run_args_pass_to_the_engine(ws):
    folder = ws.make("eta", ws.config({"runArgs": [
        "--label", "x=y", "--memory", "256m", "--add-host", "h.test:10.1.2.3",
        "--env", "FROM_RUNARGS=1"]}))
    ws.up(folder)
    c = ws.engine.api.inspect(ws.engine_id(folder))
    assert c["Config"]["Labels"].get("x") == "y"
    assert c["HostConfig"]["Memory"] == 256 * 1024 * 1024
    assert any("h.test" in h and "10.1.2.3" in h for h in c["HostConfig"]["ExtraHosts"] or [])
    assert "FROM_RUNARGS=1" in c["Config"]["Env"]
    p = ws.d("exec", folder, "--", "sh", "-c", 'echo "$FROM_RUNARGS"; grep h.test /etc/hosts')
    assert p.stdout.splitlines()[0] == "1" and "10.1.2.3" in p.stdout


def test_unknown_run_arg_fails_and_creates_nothing(ws):
    folder = ws.make("theta", ws.config({"runArgs": ["--frobnicate"]}))
    p = ws.up(folder, check=1)
    lines = [l for l in p.stderr.splitlines() if l.startswith("dcfs:")]
    assert len(lines) == 1 and "--frobnicate" in lines[0], p.stderr
    assert ws.engine.api.containers(f"devcontainer.local_folder={folder}") == []
    assert ws.ls(folder) is None


def test_refuses_a_host_that_is_not_unix(ws):
    folder = ws.make("iota", ws.config())
    p = ws.d("up", "--engine", ws.engine.kind, folder, env={"DOCKER_HOST": "tcp://127.0.0.1:1"},
             check=1)
    assert len(p.stderr.strip().splitlines()) == 1 and "tcp://127.0.0.1:1" in p.stderr


def push_to_registry(engine, reg):
    """The busybox image pushed by the engine's CLI to the loopback registry, then removed
    from the engine: its reference."""
    ref = f"{reg.host}/dcfs-test/pulled:1"
    if engine.kind == "podman":
        engine.cli("push", "--tls-verify=false", BUSYBOX_REF, f"docker://{ref}")
    else:
        engine.cli("tag", BUSYBOX_REF, ref)
        engine.cli("push", ref)
        engine.cli("rmi", ref)
    return ref


def test_up_pulls_through_the_engine(ws):
    if ws.engine.registry is None:
        pytest.skip("needs docker-registry (apt-get install docker-registry)")
    ref = push_to_registry(ws.engine, ws.engine.registry)
    assert ws.engine.api.image(ref) is None
    config = ws.config()
    config["image"] = ref
    folder = ws.make("kappa", config)
    ws.up(folder)
    assert ws.engine.api.image(ref) is not None
    assert ws.d("exec", folder, "--", "echo", "pulled").stdout == "pulled\n"
    ws.d("rm", "-f", folder)
    ws.engine.api.remove_image(ref)


def test_busybox_rootfs_is_made_once(tmp_path):
    """The fixture's helper (no engine): the rootfs has busybox and a second call reuses it."""
    r = busybox_rootfs(tmp_path)
    assert (r / "bin" / "busybox").exists()
    mtime = (r / "bin").stat().st_mtime_ns
    assert busybox_rootfs(tmp_path) == r and (r / "bin").stat().st_mtime_ns == mtime
