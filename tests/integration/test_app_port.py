"""appPort's host side: "HOST:CONTAINER" and "IP:HOST:CONTAINER" mappings forwarded from the
host port to the container's, as Docker's userland proxy does, by a relay process per container
(dcfs-forward, "PID STARTTIME" in STORE/containers/<id>/forward.pid) that lives as long as the
container. Same fixtures as test_up.py; needs root, /dev/fuse and runc. Only loopback
connections; the servers in the container are busybox `nc -ll -e`."""
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from test_up import IMAGE, env, pytestmark, up, ws  # noqa: F401 (fixtures and marks)

H1, C1, H2, C2 = 18921, 15017, 18922, 15018


def relay_pid(store, cid):
    p = store.path / "containers" / cid / "forward.pid"
    return int(p.read_text().split()[0]) if p.exists() else None


def alive(pid):
    """A process that has not exited (a zombie waiting for init counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def relays():
    """Pids of every dcfs-forward process on the machine."""
    found = []
    for d in os.listdir("/proc"):
        try:
            with open(f"/proc/{d}/comm") as f:
                if f.read().strip() == "dcfs-forward" and alive(int(d)):
                    found.append(int(d))
        except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
            pass
    return found


def wait_gone(pid, seconds=30):
    """Bounded wait for a process to exit (not a timing assertion: the bound only stops a hang)."""
    end = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < end:
        time.sleep(0.05)
    return not alive(pid)


def serve(d, folder, port):
    """An echo-with-prefix server on PORT in the container (all addresses)."""
    d("exec", folder, "--", "sh", "-c",
      f"setsid nc -ll -p {port} -e sed s/^/got{port}:/ </dev/null >/dev/null 2>&1 &")
    # wait until it listens (bounded), as seen from the host's network namespace
    end = time.monotonic() + 30
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port} in the container")


def talk(port, data=b"hello\n"):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def listening_addresses(port):
    """Local addresses (hex, as /proc/net/tcp* writes them) listening on `port`."""
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    found.add(local.rsplit(":", 1)[0])
    return found


def make(ws, name, app_port):
    return ws.make(name, {"image": IMAGE, "appPort": app_port})


def test_mappings_forward_both_ways(ws):
    folder = make(ws, "fwd", [3000, f"{H1}:{C1}", f"127.0.0.1:{H2}:{C2}"])
    p = ws.d("up", folder)
    assert f"{H1} forwarded to {C1}" in p.stdout
    assert f"127.0.0.1:{H2} forwarded to {C2}" in p.stdout
    cid = ws.d.json("ls", "--json")[0]["id"]
    pid = relay_pid(ws.store, cid)
    assert pid and alive(pid)
    serve(ws.d, folder, C1)
    serve(ws.d, folder, C2)
    assert talk(H1) == f"got{C1}:hello\n".encode()
    assert talk(H2) == f"got{C2}:hello\n".encode()
    # more than one buffer's worth, both ways
    big = b"".join(b"%07d\n" % i for i in range(20000))
    assert talk(H1, big) == b"".join(b"got%d:%07d\n" % (C1, i) for i in range(20000))
    # every address for HOST:CONTAINER, only the one given for IP:HOST:CONTAINER
    assert listening_addresses(H1) == {"00000000000000000000000000000000"}
    assert listening_addresses(H2) == {"0100007F"}
    # the report says where each host port goes, and that the container's port listens
    assert f"{H1} forwarded to {C1} (listening)" in ws.d("up", folder).stdout
    assert relay_pid(ws.store, cid) == pid  # running: the same relay


def test_single_mapping_string(ws):
    folder = make(ws, "one", f"{H1}:{C1}")
    up(ws.d, folder)
    serve(ws.d, folder, C1)
    assert talk(H1) == f"got{C1}:hello\n".encode()


def test_identical_mapping_needs_no_relay(ws):
    folder = make(ws, "same", [f"{C1}:{C1}", C2])
    out = up(ws.d, folder)
    assert relay_pid(ws.store, out["containerId"]) is None
    ws.d("rm", "-f", folder)
    # beside a mapping that needs one, the relay leaves the identical port to the container
    folder = make(ws, "mixed", [f"{C1}:{C1}", C2, f"{H1}:{C1}"])
    out = up(ws.d, folder)
    assert alive(relay_pid(ws.store, out["containerId"]))
    serve(ws.d, folder, C1)  # would fail with "address in use" had the relay taken C1
    assert talk(C1) == f"got{C1}:hello\n".encode()
    assert talk(H1) == f"got{C1}:hello\n".encode()


def test_port_in_use_is_refused(ws):
    before = set(relays())
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", H2))
        busy.listen()
        folder = make(ws, "busy", [f"{H1}:{C1}", f"127.0.0.1:{H2}:{C2}"])
        p = ws.d("up", folder, check=1)
    err = p.stderr.strip().splitlines()
    assert len(err) == 1, p.stderr
    assert "appPort" in err[0] and f"port {H2}" in err[0] and "in use" in err[0], p.stderr
    assert "devcontainer.json" in err[0]
    # the new container was taken away again, and no relay is left
    assert ws.d.json("ls", "--json") == []
    assert set(relays()) <= before


def test_udp_refused_by_name(ws):
    folder = make(ws, "udp", f"{H1}:{C1}/udp")
    p = ws.d("up", folder, check=1)
    assert "appPort" in p.stderr and f"'{H1}:{C1}/udp'" in p.stderr and "TCP" in p.stderr
    assert ws.d.json("ls", "--json") == []


def test_relay_follows_the_container(ws):
    folder = make(ws, "life", f"{H1}:{C1}")
    cid = up(ws.d, folder)["containerId"]
    first = relay_pid(ws.store, cid)
    assert alive(first)
    # down stops it
    ws.d("down", folder)
    assert not alive(first)
    assert relay_pid(ws.store, cid) is None
    # up starts it again
    up(ws.d, folder)
    second = relay_pid(ws.store, cid)
    assert second != first and alive(second)
    serve(ws.d, folder, C1)
    assert talk(H1) == f"got{C1}:hello\n".encode()
    # an up that finds the container running without its relay starts one
    os.kill(second, signal.SIGKILL)
    assert wait_gone(second)
    up(ws.d, folder)
    third = relay_pid(ws.store, cid)
    assert third != second and alive(third)
    assert talk(H1) == f"got{C1}:hello\n".encode()
    # rebuild: a new container, a new relay, the old one gone
    ws.d("rebuild", folder)
    cid2 = ws.d.json("ls", "--json")[0]["id"]
    fourth = relay_pid(ws.store, cid2)
    assert not alive(third) and fourth and alive(fourth)
    # rm stops it
    ws.d("rm", "-f", folder)
    assert not alive(fourth)


def test_relay_ends_with_the_container(ws):
    folder = make(ws, "dies", f"{H1}:{C1}")
    cid = up(ws.d, folder)["containerId"]
    pid = relay_pid(ws.store, cid)
    assert pid and alive(pid)
    # the container's process 1 killed behind dcfs's back: the relay leaves by itself
    subprocess.run(["runc", "--root", str(ws.store.path / "run" / "runc"), "kill", cid, "KILL"],
                   check=True)
    assert wait_gone(pid)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", H1)) != 0


def test_stop_leaves_a_reused_pid_alone(ws):
    """forward.pid names a process by pid and start time: another process that has the pid
    later (after a reboot, say), even one named dcfs-forward, is not the relay."""
    folder = make(ws, "reuse", f"{H1}:{C1}")
    cid = up(ws.d, folder)["containerId"]
    relay = relay_pid(ws.store, cid)
    os.kill(relay, signal.SIGKILL)
    assert wait_gone(relay)
    named = ws.root / "dcfs-forward"  # a process's name is the base name it was run by
    named.symlink_to(shutil.which("sleep"))
    other = subprocess.Popen([str(named), "1000"])
    try:
        # Popen returns once the child's close-on-exec pipe closes, which the kernel does a
        # moment before it renames the process: wait (bounded) for the new name
        end = time.monotonic() + 10
        while other.pid not in relays() and time.monotonic() < end:
            time.sleep(0.01)
        assert relays().count(other.pid) == 1
        (ws.store.path / "containers" / cid / "forward.pid").write_text(f"{other.pid} 1\n")
        ws.d("down", folder)
        assert other.poll() is None  # not killed
        assert relay_pid(ws.store, cid) is None
    finally:
        other.kill()
        other.wait()
