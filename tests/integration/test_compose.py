"""Docker Compose configurations with `dcfs up --engine podman|docker`: two services (app and
a busybox httpd as db; on podman on the project's network, on dockerd on the host network), lifecycle commands in app (postCreateCommand reaches
db), `dcfs exec` in app, shutdownAction stopCompose and none, runServices, `dcfs rm`, and a
compose file with a YAML error or an unknown service.

The compose tool is podman-compose (else docker-compose) on podman, docker-compose 1.29 on
dockerd, both at the engine's DOCKER_HOST. Same engines and workspaces as test_engine.py.
"""
import json
import re

import pytest

from engine_env import BUSYBOX_REF, compose_tool
from registry import free_port
from test_engine import Workspaces, engine, pytestmark  # noqa: F401 (fixture and marks)

KEEP_ALIVE = ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]


def db_url(kind, port):
    """Where app finds db: by name on podman-compose's project network (podman's dnsname
    plugin), on 127.0.0.1 on dockerd's host network."""
    return f"http://db:{port}/" if kind == "podman" else f"http://127.0.0.1:{port}/"


def compose_yaml(kind, port, services=("app", "db")):
    """app (keeps running) and db (a busybox httpd on PORT answering "db-answer") as a compose
    file (JSON is YAML). On podman they share the project's bridge network (podman-compose 1.0.3
    adds `--net PROJECT_default` to every service, which podman refuses beside network_mode
    host); on dockerd (no bridge) both use network_mode host."""
    host = kind != "podman"
    # httpd as process 1 ignores SIGTERM (a `down` would wait out the stop timeout): a shell
    # that exits on it runs it
    db = ["/bin/sh", "-c", "mkdir -p /www && echo db-answer > /www/index.html && "
                      "trap 'exit 0' TERM; "
                      f"httpd -f -p {'127.0.0.1' if host else '0.0.0.0'}:{port} -h /www & wait"]
    all_services = {
        "app": {"image": BUSYBOX_REF, "command": KEEP_ALIVE, "environment": {"SERVICE": "app"}},
        "db": {"image": BUSYBOX_REF, "command": db, "environment": {"SERVICE": "db"}},
        "extra": {"image": BUSYBOX_REF, "command": KEEP_ALIVE},
    }
    chosen = {s: all_services[s] for s in services}
    if host:
        for svc in chosen.values():
            svc["network_mode"] = "host"
    return json.dumps({"version": "3", "services": chosen}, indent=1)


def project_of(folder):
    """The project name the reference CLI gives: `<folder basename>_devcontainer`."""
    return re.sub(r"[^a-z0-9_-]", "", f"{folder.name}_devcontainer".lower())


class Compose:
    def __init__(self, ws):
        self.ws = ws
        if compose_tool(ws.engine) is None:
            pytest.skip(f"no compose tool for {ws.engine.kind} (apt-get install podman-compose "
                        "docker-compose)")

    def make(self, name, port, extra=None, files="docker-compose.yml", text=None,
             services=("app", "db")):
        config = {"name": name, "dockerComposeFile": files, "service": "app",
                  "workspaceFolder": f"/workspaces/{name}", "remoteUser": "vscode"}
        config.update(extra or {})
        folder = self.ws.make(name, config)
        (folder / ".devcontainer" / "docker-compose.yml").write_text(
            text if text is not None else compose_yaml(self.ws.engine.kind, port, services))
        return folder

    def containers(self, folder):
        """service -> (id, state) of the project's containers."""
        out = {}
        for c in self.ws.engine.api.containers(
                f"com.docker.compose.project={project_of(folder)}"):
            out[c["Labels"].get("com.docker.compose.service")] = (c["Id"], c["State"])
        return out


@pytest.fixture
def cw(ws):
    yield Compose(ws)


@pytest.fixture
def ws(engine, tmp_path):
    w = Workspaces(engine, tmp_path)
    yield w
    w.cleanup()


def fetch_db(url, name):
    """A postCreateCommand that asks db at `url` (retrying while it starts) and writes its
    answer into the workspace."""
    return (f"for i in $(seq 1 100); do wget -qO- {url} "
            f"> /workspaces/{name}/answer.txt && exit 0; sleep 0.1; done; exit 1")


def test_two_services_stop_compose_and_rm(ws, cw):
    port = free_port()
    name = "two"
    folder = cw.make(name, port, {"postCreateCommand": fetch_db(db_url(ws.engine.kind, port),
                                                                 name),
                                  "postStartCommand": "echo started >> /tmp/ran"})
    out = ws.up(folder)
    assert out["outcome"] == "success"
    assert out["remoteWorkspaceFolder"] == f"/workspaces/{name}"
    # the lifecycle command ran in app and reached db
    assert (folder / "answer.txt").read_text() == "db-answer\n"
    assert (folder / "answer.txt").stat().st_uid == 1000
    running = cw.containers(folder)
    assert {s: st for s, (_, st) in running.items()} == {"app": "running", "db": "running"}
    eid = ws.engine_id(folder)
    assert eid == running["app"][0]
    labels = ws.engine.api.inspect(eid)["Config"]["Labels"]
    assert labels.get("devcontainer.local_folder") == str(folder)
    # exec enters app, as the remote user, in the workspace
    p = ws.d("exec", folder, "--", "sh", "-c", 'echo "$SERVICE"; id -u; pwd; cat /tmp/ran')
    assert p.stdout.split() == ["app", "1000", f"/workspaces/{name}", "started"]
    assert ws.d("exec", folder, "--", "sh", "-c", "exit 3", check=3).returncode == 3
    # stopCompose (the default): every service stops, and up starts the same ones again
    ws.d("down", folder)
    assert {s: st for s, (_, st) in cw.containers(folder).items()} == {
        "app": "exited", "db": "exited"}
    ws.up(folder)
    assert ws.engine_id(folder) == eid
    assert {s: st for s, (_, st) in cw.containers(folder).items()} == {
        "app": "running", "db": "running"}
    # rm: the project's containers are gone
    ws.d("rm", "-f", folder)
    assert cw.containers(folder) == {}
    assert ws.ls(folder) is None


def test_shutdown_action_none_stops_nothing(ws, cw):
    port = free_port()
    folder = cw.make("keep", port, {"shutdownAction": "none"})
    ws.up(folder)
    ws.d("down", folder)
    assert {s: st for s, (_, st) in cw.containers(folder).items()} == {
        "app": "running", "db": "running"}
    ws.d("rm", "-f", folder)
    assert cw.containers(folder) == {}


def test_run_services_and_a_list_of_files(ws, cw):
    port = free_port()
    folder = cw.make("some", port, {"runServices": ["app"], "overrideCommand": True},
                     files=["docker-compose.yml"], services=("app", "db", "extra"))
    ws.up(folder)
    assert set(cw.containers(folder)) == {"app"}
    assert ws.d("exec", folder, "--", "sh", "-c", 'echo "$SERVICE"').stdout == "app\n"


def one_error_line(p):
    lines = [l for l in p.stderr.splitlines() if l.startswith("dcfs:")]
    assert len(lines) == 1, p.stderr
    return lines[0]


def test_yaml_error_fails_naming_the_file(ws, cw):
    folder = cw.make("bad", 0, text="services:\n  app:\n    image: [unclosed\n")
    p = ws.up(folder, check=1)
    assert "docker-compose.yml" in one_error_line(p)
    assert cw.containers(folder) == {}
    assert ws.ls(folder) is None


def test_unknown_service_fails_naming_it(ws, cw):
    port = free_port()
    folder = cw.make("nosvc", port, {"service": "nope"})
    p = ws.up(folder, check=1)
    assert "nope" in one_error_line(p)
    assert cw.containers(folder) == {}
    assert ws.ls(folder) is None
