"""Container engines for the tests (and tools/bench/engine) of `dcfs up --engine podman|docker`
and of Docker Compose configurations: a private podman API service and a private dockerd, each
on its own socket and storage, and the Engine API spoken to them over that socket.

  PodmanService(folder)      PrivatePodman's storage.conf and containers.conf (build_env.py)
                             plus `podman system service --time=0 unix://SOCK`; `env` holds the
                             CONTAINERS_* variables and DOCKER_HOST
  DockerDaemon(folder)       dockerd with its own data root, exec root, socket and pid file
                             (--iptables=false --ip-masq=false --bridge=none): containers on it
                             need network host or none; EngineUnavailable when it cannot start
  EngineApi(socket_path)     GET/POST/DELETE on the Engine API (http.client over a unix socket)
  busybox_rootfs(folder)     tools/make-busybox-rootfs.sh into folder/rootfs (once)
  engine_session(...)        the body of the module fixtures: a loopback registry, the engine
                             started, busybox imported, yield, close

Every engine is stopped and its folders unmounted and removed by close(); nothing is left
running or mounted.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

from build_env import PrivatePodman, umount_under
from registry import Registry

REPO = Path(__file__).resolve().parents[2]
BUSYBOX_REF = "localhost/dcfs-test/busybox:1"
START_TIMEOUT = 60  # seconds for an engine to answer /_ping
STOP_TIMEOUT = 20   # seconds for it to exit after SIGTERM


class EngineUnavailable(Exception):
    """The engine cannot start on this machine: not installed, or it failed (its log's last
    line says why)."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class EngineApi:
    """The Docker Engine API at a unix socket: call() returns (status, parsed JSON or text)."""

    def __init__(self, socket_path):
        self.socket = str(socket_path)

    def call(self, method, path, body=None, timeout=60):
        conn = _UnixConnection(self.socket, timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            headers = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            raw = r.read().decode(errors="replace")
        finally:
            conn.close()
        try:
            return r.status, json.loads(raw) if raw.strip() else None
        except ValueError:
            return r.status, raw

    def ok(self, method, path, body=None):
        status, out = self.call(method, path, body)
        if status >= 400:
            raise AssertionError(f"{method} {path}: {status} {out}")
        return out

    def ping(self) -> bool:
        try:
            return self.call("GET", "/_ping", timeout=2)[0] == 200
        except OSError:
            return False

    @staticmethod
    def _filters(labels):
        if not labels:
            return ""
        return "&filters=" + urllib.parse.quote(json.dumps({"label": list(labels)}))

    def containers(self, *labels) -> list:
        """Every container (any state) carrying every label ("K=V" or "K")."""
        return self.ok("GET", "/containers/json?all=1" + self._filters(labels)) or []

    def inspect(self, cid):
        """GET /containers/ID/json, or None when the engine has no such container."""
        status, out = self.call("GET", f"/containers/{urllib.parse.quote(cid)}/json")
        if status == 404:
            return None
        if status >= 400:
            raise AssertionError(f"inspect {cid}: {status} {out}")
        return out

    def state(self, cid):
        c = self.inspect(cid)
        return None if c is None else c["State"]["Status"]

    def volumes(self, *labels) -> list:
        out = self.ok("GET", "/volumes" + ("?" + self._filters(labels)[1:] if labels else ""))
        return (out or {}).get("Volumes") or []

    def volume(self, name):
        status, out = self.call("GET", f"/volumes/{urllib.parse.quote(name)}")
        return None if status == 404 else out

    def image(self, ref):
        status, out = self.call("GET", f"/images/{urllib.parse.quote(ref, safe='')}/json")
        return None if status == 404 else out

    def remove_image(self, ref):
        self.call("DELETE", f"/images/{urllib.parse.quote(ref, safe='')}?force=1")

    def remove_all(self):
        """Every container (forced, with anonymous volumes) and every volume."""
        for c in self.containers():
            self.call("DELETE", f"/containers/{c['Id']}?force=1&v=1")
        for v in self.volumes():
            self.call("DELETE", f"/volumes/{urllib.parse.quote(v['Name'])}?force=1")


def short_socket_dir(prefix):
    """A short folder under /tmp for a socket (sun_path holds 107 bytes; tmp_path is long)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def _log_tail(path, n=1):
    try:
        lines = [l for l in Path(path).read_text(errors="replace").splitlines() if l.strip()]
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:]) if lines else "(empty log)"


def _wait_ping(api, proc, log, name):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if api.ping():
            return
        if proc.poll() is not None:
            raise EngineUnavailable(f"{name} exited with {proc.returncode}: {_log_tail(log)}")
        time.sleep(0.1)
    raise EngineUnavailable(f"{name} did not answer /_ping within {START_TIMEOUT} s: "
                            f"{_log_tail(log)}")


def _stop(proc):
    """SIGTERM, a bounded wait, then SIGKILL (the process group: the engine's children too)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(STOP_TIMEOUT)


def busybox_rootfs(folder) -> Path:
    """tools/make-busybox-rootfs.sh into folder/rootfs (made once per folder)."""
    rootfs = Path(folder) / "rootfs"
    if not (rootfs / "bin" / "busybox").exists():
        subprocess.run(["bash", str(REPO / "tools" / "make-busybox-rootfs.sh"), str(rootfs)],
                       check=True, capture_output=True)
    return rootfs


def rootfs_tar(rootfs, tar_path) -> Path:
    subprocess.run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(tar_path), "."],
                   check=True, capture_output=True)
    return Path(tar_path)


class PodmanService:
    """podman on a private storage (build_env.PrivatePodman) serving the Engine API on a socket
    of its own: `env` for dcfs, the compose tools and the podman CLI; `api` to look inside."""

    kind = "podman"

    def __init__(self, folder, insecure=None):
        if shutil.which("podman") is None:
            raise EngineUnavailable("podman is not installed (apt-get install podman)")
        self.pm = PrivatePodman(folder, insecure)
        self.dir = Path(folder)
        self.sockdir = short_socket_dir("dcfs-pm-")
        self.socket = self.sockdir / "podman.sock"
        self.host = f"unix://{self.socket}"
        self.env = dict(self.pm.env, DOCKER_HOST=self.host)
        self.api = EngineApi(self.socket)
        self.log = self.dir / "service.log"
        self.proc = None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                ["podman", "system", "service", "--time=0", self.host],
                env=dict(os.environ, **self.pm.env), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        _wait_ping(self.api, self.proc, self.log, "podman system service")

    def cli(self, *args, check=True, timeout=600):
        """The podman CLI on the same storage."""
        return self.pm.run(*args, check=check, timeout=timeout)

    def import_busybox(self, rootfs, ref=BUSYBOX_REF) -> str:
        """`podman import` of the busybox rootfs as `ref`, with a Cmd."""
        tar = rootfs_tar(rootfs, self.dir / "busybox.tar")
        self.cli("import", "--change", 'CMD ["/bin/sh"]', tar, ref)
        tar.unlink()
        return ref

    def close(self):
        if self.proc is not None and self.proc.poll() is None and self.api.ping():
            try:
                self.api.remove_all()
            except (OSError, AssertionError):
                pass
        _stop(self.proc)
        self.pm.run("rm", "-a", "-f", check=False)
        self.pm.run("volume", "prune", "-f", check=False)
        self.pm.close()
        umount_under(self.sockdir)
        shutil.rmtree(self.sockdir, ignore_errors=True)


class DockerDaemon:
    """dockerd with its own data root, exec root, socket and pid file under `folder` (the exec
    root and socket under a short /tmp folder); no iptables, no bridge: containers need network
    host or none. EngineUnavailable when it is not installed or does not start."""

    kind = "docker"

    def __init__(self, folder):
        if shutil.which("dockerd") is None:
            raise EngineUnavailable("dockerd is not installed (apt-get install docker.io)")
        self.dir = Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.data_root = self.dir / "data"
        self.sockdir = short_socket_dir("dcfs-dk-")
        self.exec_root = self.sockdir / "exec"
        self.socket = self.sockdir / "docker.sock"
        self.pidfile = self.sockdir / "docker.pid"
        self.host = f"unix://{self.socket}"
        self.env = {"DOCKER_HOST": self.host}
        self.api = EngineApi(self.socket)
        self.log = self.dir / "dockerd.log"
        self.proc = None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        argv = ["dockerd", "--data-root", self.data_root, "--exec-root", self.exec_root,
                "--host", self.host, "--pidfile", self.pidfile, "--iptables=false",
                "--ip-masq=false", "--bridge=none",
                "--config-file", self._config()]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        _wait_ping(self.api, self.proc, self.log, "dockerd")

    def _config(self):
        """An empty daemon.json of its own (the host's /etc/docker/daemon.json is not ours);
        the host's hard rlimits as the containers' defaults."""
        f = self.dir / "daemon.json"
        f.write_text(json.dumps({"default-ulimits": {
            "nofile": {"Name": "nofile", "Hard": 20000, "Soft": 20000},
            "nproc": {"Name": "nproc", "Hard": 32768, "Soft": 32768}}}))
        return f

    def cli(self, *args, check=True, timeout=600, input=None):
        """The docker CLI on this daemon."""
        p = subprocess.run(["/usr/bin/docker", *[str(a) for a in args]], capture_output=True, text=True,
                           errors="replace", env=dict(os.environ, **self.env), timeout=timeout,
                           input=input, stdin=None if input else subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"docker {' '.join(map(str, args))}: exit {p.returncode}\n"
                                 f"{p.stdout}{p.stderr}")
        return p

    def import_busybox(self, rootfs, ref=BUSYBOX_REF) -> str:
        tar = rootfs_tar(rootfs, self.dir / "busybox.tar")
        self.cli("import", "--change", 'CMD ["/bin/sh"]', tar, ref)
        tar.unlink()
        return ref

    def close(self):
        if self.proc is not None and self.proc.poll() is None and self.api.ping():
            try:
                self.api.remove_all()
            except (OSError, AssertionError):
                pass
        _stop(self.proc)
        for base in (self.exec_root, self.data_root, self.sockdir):
            umount_under(base)
        shutil.rmtree(self.sockdir, ignore_errors=True)
        shutil.rmtree(self.data_root, ignore_errors=True)


def start_engine(kind, folder, insecure=None):
    """The engine `kind` started in `folder` (podman: `insecure` registries reachable over
    HTTP), or EngineUnavailable."""
    if kind == "podman":
        return PodmanService(folder, insecure)
    return DockerDaemon(folder)


def engine_session(kind, folder, registry=False):
    """Generator for a fixture: the engine started, busybox imported as BUSYBOX_REF, yielded,
    then closed. With `registry`, a loopback docker-registry is started first (`eng.registry`,
    else None) and podman is told it may reach it over HTTP (dockerd takes 127.0.0.0/8 as
    insecure already). Raises EngineUnavailable (the fixture skips with it) when the engine
    cannot start."""
    rootfs = busybox_rootfs(folder)
    reg = Registry(Path(folder) / "registry").start() if registry else None
    try:
        eng = start_engine(kind, Path(folder) / kind, [reg.host] if reg else None)
        eng.registry = reg
        try:
            eng.import_busybox(rootfs)
            yield eng
        finally:
            eng.close()
    finally:
        if reg:
            reg.stop()


def compose_tool(engine):
    """argv of the compose tool for `engine` (as dcfs picks it): podman-compose for podman when
    installed, else docker-compose; None when there is none."""
    names = ["podman-compose", "docker-compose"] if engine.kind == "podman" else ["docker-compose"]
    for n in names:
        if shutil.which(n):
            return [n]
    return None
