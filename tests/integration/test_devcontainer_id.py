"""${devcontainerId} is substituted with the spec's stable id (the same for a folder and its
configuration across rebuilds), so a per-container volume is per container.
Same fixtures as test_up.py; needs root, /dev/fuse and runc."""
import hashlib
import json

from test_up import IMAGE, env, pytestmark, up, ws  # noqa: F401 (fixtures and marks)


def spec_id(folder, config_file):
    """The spec's label-based computation, as its JavaScript implementation does it."""
    labels = json.dumps({"devcontainer.config_file": str(config_file),
                         "devcontainer.local_folder": str(folder)},
                        separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    n = int.from_bytes(hashlib.sha256(labels.encode()).digest(), "big")
    digits = ""
    while n:
        digits = "0123456789abcdefghijklmnopqrstuv"[n % 32] + digits
        n //= 32
    return digits.rjust(52, "0")


def test_devcontainer_id_gives_each_container_its_volume(ws):
    config = {"image": IMAGE, "containerEnv": {"ID": "${devcontainerId}"},
              "mounts": [{"type": "volume", "source": "data-${devcontainerId}", "target": "/data"}]}
    a, b = ws.make("ida", config), ws.make("idb", config)
    want = spec_id(a, a / ".devcontainer" / "devcontainer.json")
    # read-configuration leaves it, as the reference CLI does before a container exists
    rc = ws.d.json("read-configuration", a)
    assert rc["configuration"]["containerEnv"]["ID"] == "${devcontainerId}"
    up(ws.d, a)
    up(ws.d, b)
    ws.d("exec", a, "--", "sh", "-c", "echo from-a > /data/f")
    assert ws.d("exec", a, "--", "sh", "-c", "echo $ID").stdout.strip() == want
    assert ws.d("exec", b, "--", "sh", "-c", "cat /data/f 2>/dev/null || echo empty").stdout == "empty\n"
    assert (ws.store.path / "volumes" / f"data-{want}" / "f").read_text() == "from-a\n"
    # stable across a rebuild: the same volume comes back
    ws.d("rebuild", a)
    assert ws.d("exec", a, "--", "cat", "/data/f").stdout == "from-a\n"
    # du -v lists each container and each volume
    out = ws.d("du", "-v").stdout
    containers = out[out.index("Containers space usage:"):out.index("Local volumes space usage:")]
    volumes = out[out.index("Local volumes space usage:"):]
    assert str(a) in containers and str(b) in containers
    assert f"data-{want}" in volumes
