"""runc's own errors reach the user as one dcfs line naming the container and the step, never
in runc's format (`time="..." level=error msg="..."`, or the plain "exec failed: ..." runc
also prints): a missing command exits 127 ("NAME: command not found in container C"), one
that cannot be executed 126, in `dcfs exec` and in the lifecycle commands alike; `up` says
what `runc run` could not do. Same fixtures as test_up.py; needs root, /dev/fuse and runc."""
import os
import signal
import subprocess
import time

from test_up import IMAGE, env, pytestmark, up, ws  # noqa: F401 (fixtures and marks)

RAW = ("level=error", "exec failed", "unable to start container process", "runc run failed")


def dcfs_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("dcfs:")]


def assert_not_raw(text):
    for raw in RAW:
        assert raw not in text, text


def test_missing_command_in_post_create(ws):
    folder = ws.make("pc", {"image": IMAGE, "postCreateCommand": ["nosuch", "--flag"]})
    p = up(ws.d, folder, check=1)
    assert_not_raw(p.stderr)
    name = ws.d.json("ls", "--json")[0]["name"]
    assert dcfs_lines(p.stderr) == [
        f"dcfs: up: postCreateCommand failed with exit code 127: nosuch: command not found "
        f"in container {name}"], p.stderr
    # nor in the container's log
    assert_not_raw(ws.d("logs", folder).stdout)


def test_missing_command_among_parallel_ones(ws):
    folder = ws.make("par", {"image": IMAGE,
                             "postStartCommand": {"ok": "echo fine", "bad": ["/no/such/tool"]}})
    p = up(ws.d, folder, check=1)
    assert_not_raw(p.stderr)
    assert "fine" in p.stderr
    lines = dcfs_lines(p.stderr)
    assert len(lines) == 1
    assert lines[0].startswith("dcfs: up: postStartCommand failed with exit code 127: "
                               "/no/such/tool: command not found in container "), lines


def test_exec_missing_and_not_executable(ws):
    folder = ws.make("ex", {"image": IMAGE})
    up(ws.d, folder)
    name = ws.d.json("ls", "--json")[0]["name"]
    p = ws.d("exec", folder, "--", "/nonexistent", "arg", check=127)
    assert p.stderr == f"dcfs: exec: /nonexistent: command not found in container {name}\n"
    # a regular file without x bits, in the root and in the workspace; a folder
    (folder / "script.sh").write_text("#!/bin/sh\necho never\n")
    for path in ("/etc/passwd", "/workspaces/ex/script.sh", "/tmp"):
        p = ws.d("exec", folder, "--", path, check=126)
        assert p.stderr == (f"dcfs: exec: {path}: cannot execute (permission denied) in "
                            f"container {name}\n"), p.stderr
    # a command's own output, exit code and failure still come through unchanged
    p = ws.d("exec", folder, "--", "sh", "-c", "echo out; echo err >&2; exit 255", check=255)
    assert (p.stdout, p.stderr) == ("out\n", "err\n")
    p = ws.d("exec", folder, "--", "sh", "-c", "echo 'exec failed: not runc' >&2; exit 1", check=1)
    assert p.stderr == "exec failed: not runc\n"


def test_exec_passes_signals_on(ws):
    """`runc exec` is our child now: a TERM sent to dcfs reaches the command."""
    folder = ws.make("sig", {"image": IMAGE})
    up(ws.d, folder)
    ready = folder / "trapped"
    proc = ws.d.popen("exec", folder, "--", "sh", "-c",
                      "trap 'echo got TERM; exit 9' TERM; touch trapped; "
                      "while :; do sleep 0.1; done",
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):
            if ready.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert ready.exists()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 9, err
    assert out == "got TERM\n"


def test_runc_run_failure_is_one_line(ws):
    """runc cannot make the working folder (a file is in the way): `up` says so in one line
    naming the container and runc's step, and leaves nothing behind."""
    folder = ws.make("wd", {"image": IMAGE, "runArgs": ["--workdir", "/etc/passwd/sub"]})
    p = up(ws.d, folder, check=1)
    assert_not_raw(p.stderr)
    lines = dcfs_lines(p.stderr)
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("dcfs: up: container wd-"), lines
    assert ": runc run: " in lines[0] and "not a directory" in lines[0], lines
    assert ws.d.json("ls", "--json") == []
