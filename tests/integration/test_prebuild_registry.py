"""Registries and `up`: a prebuild shared through a registry (store A makes a prebuild and pushes
it; store B, another machine's, pulls it, sees a snapshot with the same key, and `dcfs up` of a
folder with the same configuration there starts from it and runs only the commands after
updateContentCommand); and `up` pulling an image the store lacks."""
import json
import re
import os
import shutil
import subprocess

import pytest

from conftest import REPO, Dcfs, Store, dcfs_binary
from registry import Registry

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="needs /dev/fuse"),
    pytest.mark.skipif(shutil.which("runc") is None, reason="needs runc"),
    pytest.mark.skipif(not shutil.which("docker-registry"), reason="needs docker-registry"),
]

CONFIG = {
    "image": "busybox:demo",
    "onCreateCommand": "echo onCreate >> /root/ran; mkdir -p /opt/tool && echo built > /opt/tool/out",
    "updateContentCommand": "echo updateContent >> /root/ran",
    "postCreateCommand": "echo postCreate >> /root/ran",
    "postStartCommand": "echo postStart >> /root/ran",
    "postAttachCommand": "echo postAttach >> /root/ran",
}


def folder(base, name):
    f = base / name
    (f / ".devcontainer").mkdir(parents=True)
    (f / ".devcontainer" / "devcontainer.json").write_text(json.dumps(CONFIG))
    return f


def test_prebuild_through_a_registry(tmp_path):
    rootfs = tmp_path / "rootfs"
    subprocess.run(["bash", str(REPO / "tools" / "make-busybox-rootfs.sh"), str(rootfs)],
                   check=True, capture_output=True, env=dict(os.environ, SOURCE_DATE_EPOCH="0"))
    a = Dcfs(dcfs_binary(), Store(tmp_path / "a"))
    b = Dcfs(dcfs_binary(), Store(tmp_path / "b"))
    reg = Registry(tmp_path / "registry").start()
    fa, fb = folder(tmp_path, "proj"), folder(tmp_path / "elsewhere", "proj")
    try:
        for d in (a, b):  # the same base image on both machines: the same digest
            d("import", rootfs, "busybox:demo")
        a("prebuild", fa)
        snap = json.loads(a("snapshots", "--json").stdout)[0]
        assert snap["origin"] == "prebuild"
        ref = f"{reg.host}/team/proj-prebuild:latest"
        a("push", snap["ref"], ref)

        p = b("pull", ref)
        assert "is a dcfs snapshot" in p.stdout
        [pulled] = json.loads(b("snapshots", "--json").stdout)
        assert (pulled["ref"], pulled["origin"], pulled["key"], pulled["stage"]) == \
            (ref, "prebuild", snap["key"], "updateContentCommand")
        du = json.loads(b("du", "--json").stdout)
        assert du["snapshots"]["total"] == 1 and du["images"]["total"] == 1

        p = b("up", fb)
        assert f"prebuild: starting from snapshot {ref}" in p.stdout
        ran = b("exec", fb, "--", "cat", "/root/ran", "/opt/tool/out").stdout.split()
        assert ran == ["onCreate", "updateContent", "postCreate", "postStart", "postAttach",
                       "built"]
        assert json.loads(b("du", "--json").stdout)["snapshots"]["active"] == 1
    finally:
        b("rm", "-f", fb, check=False)
        a("rm", "-f", fa, check=False)
        reg.stop()


def test_up_pulls_a_missing_image(tmp_path):
    """`dcfs up` pulls the configuration's image when the store lacks it, and says so."""
    rootfs = tmp_path / "rootfs"
    subprocess.run(["bash", str(REPO / "tools" / "make-busybox-rootfs.sh"), str(rootfs)],
                   check=True, capture_output=True)
    a = Dcfs(dcfs_binary(), Store(tmp_path / "a"))
    b = Dcfs(dcfs_binary(), Store(tmp_path / "b"))
    reg = Registry(tmp_path / "registry").start()
    ref = f"{reg.host}/team/busybox:1"
    f = tmp_path / "pulls"
    (f / ".devcontainer").mkdir(parents=True)
    (f / ".devcontainer" / "devcontainer.json").write_text(json.dumps(
        {"image": ref, "postCreateCommand": "echo made > /root/made"}))
    try:
        a("import", rootfs, "busybox:local")
        a("push", "busybox:local", ref)
        p = b("up", f)
        assert f"pulling {ref}: it is not in the store" in p.stdout
        assert re.search(rf"^pulled {re.escape(ref)} \(sha256:[0-9a-f]{{12}}\): 1 layers, 0 already "
                         r"stored, [0-9.]+ MB downloaded$", p.stdout, re.M), p.stdout
        assert b("exec", f, "--", "cat", "/root/made").stdout == "made\n"
        [image] = json.loads(b("images", "--json").stdout)
        assert image["ref"] == ref
    finally:
        b("rm", "-f", f, check=False)
        reg.stop()
