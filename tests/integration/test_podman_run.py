"""A pushed image runs under `podman run` unchanged: busybox imported into the store, pushed
with zstd and with gzip layers to a real registry on 127.0.0.1, run by podman 4.3 (runc,
cgroupfs, host network, its own storage and configuration in the test's folder), and a snapshot
(an image plus a layer with a file added, one changed and one deleted) the same way."""
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from build_env import CONTAINERS_CONF
from conftest import REPO
from registry import Registry

pytestmark = [
    pytest.mark.skipif(not shutil.which("docker-registry"), reason="needs docker-registry"),
    pytest.mark.skipif(not shutil.which("podman"), reason="needs podman (tools/install-deps.sh)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.timeout(900),  # podman's own run has 300 s (conftest: the time limit)
]

CONF = CONTAINERS_CONF  # runc, cgroupfs, host network, the host's rlimits


@pytest.fixture
def registry(tmp_path):
    reg = Registry(tmp_path / "registry").start()
    yield reg
    reg.stop()


@pytest.fixture
def podman(tmp_path):
    conf = tmp_path / "containers.conf"
    conf.write_text(CONF)
    root = tmp_path / "podman-root"
    run = tempfile.mkdtemp(prefix="dcfs-pr-")  # podman wants a short runroot (< 50 characters)
    env = dict(os.environ, CONTAINERS_CONF=str(conf))

    def run_podman(*args, check=True):
        p = subprocess.run(["podman", "--root", str(root), "--runroot", str(run),
                            "--storage-driver", "vfs", *args],
                           capture_output=True, text=True, env=env, timeout=300)
        if check and p.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {p.returncode}\n{p.stderr}")
        return p
    yield run_podman
    run_podman("rm", "-a", "-f", check=False)
    run_podman("rmi", "-a", "-f", check=False)
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(run, ignore_errors=True)


@pytest.fixture
def busybox(dcfs, tmp_path):
    rootfs = tmp_path / "rootfs"
    subprocess.run(["bash", str(REPO / "tools" / "make-busybox-rootfs.sh"), str(rootfs)],
                   check=True, capture_output=True)
    dcfs("import", rootfs, "busybox:podman")
    return rootfs


@pytest.mark.parametrize("compression", ["zstd", "gzip"])
def test_pushed_image_runs_under_podman(dcfs, registry, podman, busybox, compression):
    ref = f"{registry.host}/dcfs/busybox:{compression}"
    dcfs("push", "--compression", compression, "busybox:podman", ref)
    p = podman("run", "--rm", "--tls-verify=false", ref, "/bin/sh", "-c",
               "echo hello from $(id -un); ls /home")
    assert p.stdout.split("\n")[:2] == ["hello from root", "vscode"]


def test_pushed_two_layer_image_runs_under_podman(dcfs, store, registry, podman, busybox, tmp_path):
    """A two-layer image (busybox and a layer that adds, changes and deletes files, as a
    snapshot does), pulled from the registry, pushed back under another name, run by podman."""
    base = f"{registry.host}/dcfs/base:1"
    dcfs("push", "busybox:podman", base)
    dcfs("pull", base)
    # a second layer over it: pull an image made of the base and a layer written by podman
    podman("run", "--name", "changer", "--tls-verify=false", base, "/bin/sh", "-c",
           "echo new > /root/new && echo changed > /etc/motd && rm /bin/vi")
    podman("commit", "changer", f"{registry.host}/dcfs/changed:1")
    podman("push", "--tls-verify=false", f"{registry.host}/dcfs/changed:1")
    dcfs("pull", f"{registry.host}/dcfs/changed:1")
    images = json.loads(dcfs("images", "--json").stdout)
    layers = {i["ref"]: i["layers"] for i in images}
    assert layers[f"{registry.host}/dcfs/changed:1"] == 2
    again = f"{registry.host}/dcfs/again:1"
    dcfs("push", f"{registry.host}/dcfs/changed:1", again)
    p = podman("run", "--rm", "--tls-verify=false", again, "/bin/sh", "-c",
               "cat /root/new /etc/motd; test -e /bin/vi && echo vi-present || echo vi-gone")
    assert p.stdout.split() == ["new", "changed", "vi-gone"]
