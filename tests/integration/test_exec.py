"""dcfs exec: a command that is on no folder of the container's PATH is "not found" with exit
127 in one line; a command in a mount of the container (the workspace) still runs; without a
command, the remote user's login shell from the container's /etc/passwd.
Same fixtures as test_up.py; needs root, /dev/fuse and runc."""
import os

from test_up import IMAGE, env, pytestmark, up, ws  # noqa: F401 (fixtures and marks)


def test_missing_command_is_not_found(ws):
    folder = ws.make("nf", {"image": IMAGE, "remoteUser": "vscode"})
    up(ws.d, folder)
    p = ws.d("exec", folder, "--", "no-such-tool", "--flag", check=127)
    assert p.stderr.startswith("dcfs: exec: no-such-tool: command not found in container ")
    assert len(p.stderr.splitlines()) == 1
    assert "level=error" not in p.stderr
    # an existing one still runs, and its own exit code is kept
    assert ws.d("exec", folder, "--", "sh", "-c", "exit 7", check=7).returncode == 7


def test_command_in_a_mount_on_path_still_runs(ws):
    folder = ws.make("onpath", {"image": IMAGE, "remoteUser": "vscode",
                                "remoteEnv": {"PATH": "/workspaces/onpath/bin:/bin:/usr/bin"}})
    (folder / "bin").mkdir()
    tool = folder / "bin" / "mytool"
    tool.write_text("#!/bin/sh\necho from the workspace\n")
    tool.chmod(0o755)
    os.chown(folder / "bin", 1000, 1000)
    up(ws.d, folder)
    assert ws.d("exec", folder, "--", "mytool").stdout == "from the workspace\n"


def test_no_command_runs_the_login_shell_of_passwd(ws):
    folder = ws.make("shell", {"image": IMAGE, "remoteUser": "vscode"})
    cid = up(ws.d, folder)["containerId"]
    # give vscode another shell (a link to busybox) in the container's /etc/passwd, from the host
    root = ws.store.path / "containers" / cid / "rootfs"
    os.symlink("/bin/busybox", root / "tmp" / "ash")
    passwd = root / "etc" / "passwd"
    passwd.write_text(passwd.read_text().replace("/home/vscode:/bin/sh", "/home/vscode:/tmp/ash"))
    p = ws.d("exec", folder, input="echo shell=$0\n")
    assert "shell=/tmp/ash" in p.stdout or "shell=-ash" in p.stdout, p.stdout
    # a shell that is not in the root falls back to /bin/sh
    passwd.write_text(passwd.read_text().replace("/tmp/ash", "/no/such/shell"))
    p = ws.d("exec", folder, input="echo shell=$0\n")
    assert "shell=/bin/sh" in p.stdout or "shell=-sh" in p.stdout, p.stdout


def test_logs_show_each_lifecycle_step_background_ones_too(ws):
    import time
    folder = ws.make("logs", {"image": IMAGE, "waitFor": "onCreateCommand",
                              "onCreateCommand": "echo made-once",
                              "postCreateCommand": "echo after-create",
                              "postStartCommand": "echo at-start"})
    p = ws.d("up", folder)
    assert "Running the onCreateCommand..." in p.stderr and "made-once" in p.stderr
    text = ""
    for _ in range(100):  # the background steps finish within seconds
        text = ws.d("logs", folder).stdout
        if "at-start" in text:
            break
        time.sleep(0.1)
    labels = [line for line in text.splitlines() if line.startswith("Running the ")]
    assert labels == ["Running the onCreateCommand...", "Running the postCreateCommand...",
                      "Running the postStartCommand..."], text
    for out in ("made-once", "after-create", "at-start"):
        assert out in text
    p = ws.d("logs", ws.root / "nothing-here", check=1)
    assert "no dev container" in p.stderr


def test_exec_waits_while_a_snapshot_has_the_container_frozen(ws):
    import subprocess
    import time
    folder = ws.make("frozen", {"image": IMAGE})
    cid = up(ws.d, folder)["containerId"]
    runc = ["runc", "--root", str(ws.store.path / "run" / "runc")]
    subprocess.run(runc + ["pause", cid], check=True, capture_output=True)
    try:
        p = ws.d.popen("exec", folder, "--", "echo", "thawed", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert p.poll() is None, "exec did not wait for the paused container"
    finally:
        subprocess.run(runc + ["resume", cid], capture_output=True)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0 and out == "thawed\n"
    assert err.startswith("dcfs: exec: ") and err.endswith(
        " is frozen while a snapshot is taken; waiting\n"), err
    assert err.count("\n") == 1, err
