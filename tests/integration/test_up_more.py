"""dcfs up, continued: runArgs, the host's ~/.gitconfig and the VS Code machine settings in the
remote user's home, and the forwarded ports' report.

Same fixtures as test_up.py (a busybox image imported once per module, workspace folders owned
by uid 1000, containers removed in teardown); needs root, /dev/fuse and runc.
"""
import json
import os
import socket
import time

from test_up import IMAGE, env, pytestmark, runc_status, up, ws  # noqa: F401 (fixtures and marks)


def bundle(ws, cid):
    return json.loads((ws.store.path / "containers" / cid / "bundle" / "config.json").read_text())


def test_run_args(ws):
    host = ws.root / "host"
    host.mkdir()
    (host / "f").write_text("from the host\n")
    folder = ws.make("ra", {"image": IMAGE, "remoteUser": "vscode", "runArgs": [
        "-e", "A=1", "--env=B=2", "-v", f"{host}:/h:ro", "--volume=ra-vol:/vol",
        "--mount", "type=volume,source=ra-m,target=/m", "--cap-add", "SYS_PTRACE",
        "--cap-add=net_admin", "--security-opt", "seccomp=unconfined",
        "--security-opt=no-new-privileges", "--name", "my-ra", "--hostname=rahost",
        "--network=host", "--net", "host", "-u", "vscode", "-w", "/tmp",
        "--add-host", "db.local:10.1.2.3", "--add-host=six.local:fe80::1"]})
    cid = up(ws.d, folder)["containerId"]
    spec = bundle(ws, cid)
    proc = spec["process"]
    assert proc["cwd"] == "/tmp" and proc["user"]["uid"] == 1000
    assert proc["noNewPrivileges"] is True
    caps = proc["capabilities"]["bounding"]
    assert "CAP_SYS_PTRACE" in caps and "CAP_NET_ADMIN" in caps and "CAP_SYS_ADMIN" not in caps
    assert spec["hostname"] == "rahost"
    assert {c["folder"]: c["name"] for c in ws.d.json("ls", "--json")}[str(folder)] == "my-ra"
    p = ws.d("exec", folder, "--", "sh", "-c",
             "echo $A $B; cat /h/f; touch /h/g 2>/dev/null || echo ro; "
             "grep -cE ' /(vol|m) ' /proc/mounts; "
             "hostname; tail -n 2 /etc/hosts")
    assert p.stdout.splitlines() == ["1 2", "from the host", "ro", "2", "rahost",
                                     "10.1.2.3\tdb.local", "fe80::1\tsix.local"]
    assert (ws.store.path / "volumes" / "ra-vol").is_dir()
    assert (ws.store.path / "volumes" / "ra-m").is_dir()


def test_run_args_privileged(ws):
    folder = ws.make("rp", {"image": IMAGE, "runArgs": ["--privileged"]})
    cid = up(ws.d, folder)["containerId"]
    assert "CAP_SYS_ADMIN" in bundle(ws, cid)["process"]["capabilities"]["bounding"]


def test_run_args_refused(ws):
    cases = {
        ("--gpus", "all"): "dcfs: up: runArgs: unsupported docker run flag '--gpus' in "
                           ".devcontainer/devcontainer.json",
        ("-p", "3000:3000"): "dcfs: up: runArgs: unsupported docker run flag '-p' in "
                             ".devcontainer/devcontainer.json",
        ("--network=bridge",): "dcfs: up: runArgs: only the host network is supported, not "
                               "'--network bridge' in .devcontainer/devcontainer.json",
        ("--security-opt", "apparmor=unconfined"): "dcfs: up: runArgs: --security-opt in "
                                                   ".devcontainer/devcontainer.json: unsupported "
                                                   "security option 'apparmor=unconfined'",
        ("-e",): "dcfs: up: runArgs: '-e' needs a value in .devcontainer/devcontainer.json",
    }
    for i, (args, msg) in enumerate(cases.items()):
        folder = ws.make(f"bad{i}", {"image": IMAGE, "runArgs": list(args)})
        p = ws.d("up", folder, check=1)
        assert p.stderr.strip() == msg
        assert all(c["folder"] != str(folder) for c in ws.d.json("ls", "--json"))


def test_gitconfig_and_settings(ws, tmp_path):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".gitconfig").write_text("[user]\n\tname = Dev\n")
    (home / ".ssh" / "id_ed25519").write_text("secret\n")
    settings = {"editor.tabSize": 3, "files.exclude": {"**/.git": True}}
    folder = ws.make("home", {"image": IMAGE, "remoteUser": "vscode",
                              "customizations": {"vscode": {"settings": settings}}})
    p = ws.d("up", "--json", folder, env={"HOME": str(home)})
    assert json.loads(p.stdout)["outcome"] == "success"
    p = ws.d("exec", folder, "--", "sh", "-c",
             "cat ~/.gitconfig; stat -c %u:%g ~/.gitconfig ~/.vscode-server/data/Machine/"
             "settings.json ~/.vscode-server; ls -A ~")
    lines = p.stdout.splitlines()
    assert lines[:2] == ["[user]", "\tname = Dev"]
    assert lines[2:5] == ["1000:1000"] * 3
    assert ".ssh" not in lines[5:]
    p = ws.d("exec", folder, "--", "cat", "/home/vscode/.vscode-server/data/Machine/settings.json")
    assert json.loads(p.stdout) == settings


def test_ports_report(ws):
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    lp, cp = listening.getsockname()[1], closed.getsockname()[1]
    closed.close()
    try:
        folder = ws.make("ports", {"image": IMAGE, "forwardPorts": [lp], "appPort": f"{cp}"})
        p = ws.d("up", folder)
        assert f"ports: {lp} (listening), {cp} (not listening)" in p.stdout.splitlines()
        p = ws.d("up", "--json", folder)  # stdout keeps only the JSON line
        assert json.loads(p.stdout)["outcome"] == "success"
        assert f"ports: {lp} (listening), {cp} (not listening)" in p.stderr
    finally:
        listening.close()


ZOMBIES = "sleep 2; awk '$3 == \"Z\" {print $1}' /proc/[0-9]*/stat"


def test_init(ws):
    folder = ws.make("init", {"image": IMAGE, "init": True})
    cid = up(ws.d, folder)["containerId"]
    p = ws.d("exec", folder, "--", "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline")
    assert p.stdout.startswith("/.dcfs/init /bin/sh -c ")
    # an orphan is re-parented to process 1, which must reap it when it ends
    ws.d("exec", folder, "--", "sh", "-c", "(sleep 1 &); exit 0")
    assert ws.d("exec", folder, "--", "sh", "-c", ZOMBIES).stdout == ""
    # SIGTERM reaches the command through init: the container ends without SIGKILL
    ws.d("down", folder)
    assert "did not stop within" not in ws.d("logs", folder).stdout
    assert runc_status(ws.store, cid) is None
    # runArgs --init asks for the same
    folder = ws.make("init2", {"image": IMAGE, "runArgs": ["--init"]})
    cid = up(ws.d, folder)["containerId"]
    assert bundle(ws, cid)["process"]["args"][0] == "/.dcfs/init"


def test_update_remote_user_uid(ws):
    folder = ws.make("uid", {"image": IMAGE, "remoteUser": "vscode", "containerUser": "vscode"})
    for p in (folder, folder / ".devcontainer"):
        os.chown(p, 1234, 1235)
    cid = up(ws.d, folder)["containerId"]
    assert bundle(ws, cid)["process"]["user"] == {"uid": 1234, "gid": 1235}
    p = ws.d("exec", folder, "--", "sh", "-c",
             "id -u; id -g; id -un; stat -c %u:%g ~ ~/config; grep vscode /etc/group; touch f")
    assert p.stdout.split() == ["1234", "1235", "vscode", "1234:1235", "1234:1235",
                                "vscode:x:1235:"]
    st = os.stat(folder / "f")
    assert (st.st_uid, st.st_gid) == (1234, 1235)
    # the image is untouched: the change is in the container's upper directory
    upper = ws.store.path / "containers" / cid / "upper" / "etc" / "passwd"
    assert "vscode:x:1234:1235:" in upper.read_text()
    # down and up again: nothing more to change
    ws.d("down", folder)
    assert up(ws.d, folder)["containerId"] == cid
    assert ws.d("exec", folder, "--", "id", "-u").stdout == "1234\n"
    # updateRemoteUserUID: false keeps the image's
    other = ws.make("uid-off", {"image": IMAGE, "remoteUser": "vscode",
                                "updateRemoteUserUID": False})
    os.chown(other, 1234, 1235)
    up(ws.d, other)
    assert ws.d("exec", other, "--", "id", "-u").stdout == "1000\n"


def test_wait_for(ws):
    name = "wait"
    folder = ws.make(name, {
        "image": IMAGE, "waitFor": "onCreateCommand",
        "onCreateCommand": f"echo onCreate >> /workspaces/{name}/order.txt",
        # waits (at most a minute) for the test to say go: up must return before it
        "postCreateCommand": f"i=0; while [ ! -e /workspaces/{name}/go ] && [ $i -lt 600 ]; "
                             f"do sleep 0.1; i=$((i+1)); done; "
                             f"echo postCreate >> /workspaces/{name}/order.txt",
        "postAttachCommand": f"echo postAttach >> /workspaces/{name}/order.txt"})
    cid = up(ws.d, folder)["containerId"]
    order = folder / "order.txt"
    assert order.read_text().split() == ["onCreate"]
    (folder / "go").write_text("")
    # the rest goes on in the background; the next up waits for it (the folder's lock), and
    # its own postAttach goes on in the background too
    up(ws.d, folder)
    # (the second up's own postAttach may already have run too)
    assert order.read_text().split()[:3] == ["onCreate", "postCreate", "postAttach"]
    for _ in range(50):
        if order.read_text().split().count("postAttach") == 2:
            break
        time.sleep(0.1)
    assert order.read_text().split() == ["onCreate", "postCreate", "postAttach", "postAttach"]
    assert (ws.store.path / "containers" / cid / "markers" / "postCreateCommand").exists()
    bad = ws.make("wait-bad", {"image": IMAGE, "waitFor": "nothing"})
    assert '"waitFor": "nothing" is not one of' in ws.d("up", bad, check=1).stderr
    # a background failure is written to the container's log, and not marked as done
    failing = ws.make("wait-fail", {"image": IMAGE, "waitFor": "onCreateCommand",
                                    "postCreateCommand": "exit 3"})
    cid = up(ws.d, failing)["containerId"]
    log = ws.store.path / "containers" / cid / "log"
    for _ in range(50):
        if "postCreateCommand failed" in log.read_text():
            break
        time.sleep(0.1)
    assert "dcfs: up: postCreateCommand failed with exit code 3" in log.read_text()
    assert not (ws.store.path / "containers" / cid / "markers" / "postCreateCommand").exists()


def test_shutdown_action_none_keeps_the_container(ws):
    folder = ws.make("keep", {"image": IMAGE, "shutdownAction": "none"})
    cid = up(ws.d, folder)["containerId"]
    p = ws.d("down", folder)
    assert "shutdownAction" in p.stdout
    assert runc_status(ws.store, cid) == "running"
    ws.d("down", "-f", folder)
    assert runc_status(ws.store, cid) is None


def test_container_env_in_remote_env(ws):
    folder = ws.make("cenv", {"image": IMAGE, "containerEnv": {"BASE": "/opt/base"},
                              "remoteEnv": {"PATH": "${containerEnv:PATH}:/extra",
                                            "B2": "${containerEnv:BASE}/bin"}})
    up(ws.d, folder)
    out = ws.d("exec", folder, "--", "sh", "-c", "echo $PATH; echo $B2").stdout.splitlines()
    assert out[0].endswith(":/extra") and "${" not in out[0] and "/bin" in out[0]
    assert out[1] == "/opt/base/bin"
