"""Real Dev Container Features (../shared/corpus/features: common-utils, git, sshd, as
published) installed by `dcfs up` on a Debian bookworm minbase root.

The root is built once with debootstrap and cached (debian_root.py) and imported with `dcfs
import`; the three features are pushed as OCI artifacts to a loopback registry
(feature_env.push_feature) and installed in one `up` (their install.sh scripts run apt against
Debian's mirror inside the container, which has the host's network). common-utils gets
installOhMyZsh and installOhMyZshConfig false (their defaults clone from GitHub, unreachable
here), username vscode, and upgradePackages false (no upgrade of the whole root: the test stays
short); git gets version os-provided. Checks: `git --version` runs as the remote user vscode,
`id vscode`, sshd's binary is there.

Needs root, /dev/fuse, runc, docker-registry, debootstrap and Debian's mirror (skipped when the
corpus, DCFS_FEATURE_CORPUS or ../shared/corpus/features beside the repository, is missing).
"""
import json
import os
import re
import shutil
from pathlib import Path

import pytest

import debian_root
import feature_env
from conftest import REPO, Dcfs, Store, dcfs_binary
from registry import Registry
from test_up import pytestmark  # noqa: F401

CORPUS = Path(os.environ.get("DCFS_FEATURE_CORPUS")
              or REPO.parent / "shared" / "corpus" / "features")
IMAGE = "debian:bookworm-minbase"

pytestmark = pytestmark + [
    pytest.mark.skipif(shutil.which("docker-registry") is None, reason="needs docker-registry"),
    pytest.mark.skipif(shutil.which("debootstrap") is None, reason="needs debootstrap"),
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no feature corpus at {CORPUS}"),
]


@pytest.mark.timeout(900)
def test_common_utils_git_sshd_on_debian(tmp_path):
    root = debian_root.minbase()
    store = Store(tmp_path / "store")
    d = Dcfs(dcfs_binary(), store)
    d("import", root, IMAGE)
    reg = Registry(tmp_path / "registry").start()
    folder = tmp_path / "real"
    try:
        refs = {name: f"{reg.host}/devcontainers/features/{name}:1"
                for name in ("common-utils", "git", "sshd")}
        for name in refs:
            feature_env.push_feature(reg, f"devcontainers/features/{name}", "1", CORPUS / name)
        (folder / ".devcontainer").mkdir(parents=True)
        config = {
            "image": IMAGE,
            "remoteUser": "vscode",
            "features": {
                refs["common-utils"]: {"installOhMyZsh": False, "installOhMyZshConfig": False,
                                       "username": "vscode", "upgradePackages": False},
                refs["git"]: {"version": "os-provided"},
                refs["sshd"]: {},
            },
            # their installsAfter names ghcr.io's common-utils, not this registry's
            "overrideFeatureInstallOrder": [refs["common-utils"].rsplit(":", 1)[0]],
        }
        (folder / ".devcontainer" / "devcontainer.json").write_text(json.dumps(config))
        p = d("up", "--json", folder, timeout=840)
        for fid in ("common-utils", "git", "sshd"):
            assert re.search(rf"feature {re.escape(fid)}\b.*\binstalled\b", p.stderr), p.stderr
        assert d("exec", folder, "--", "id", "-un").stdout.strip() == "vscode"
        git = d("exec", folder, "--", "git", "--version").stdout
        assert git.startswith("git version 2."), git
        ident = d("exec", folder, "--", "id", "vscode").stdout
        assert re.match(r"uid=\d+\(vscode\) gid=\d+\(vscode\)", ident), ident
        d("exec", folder, "--", "test", "-x", "/usr/sbin/sshd")
    finally:
        if (folder / ".devcontainer").exists():
            d("rm", "-f", folder, check=False)
        reg.stop()


def test_debian_root_is_cached():
    """The cached root is whole: its marker, dpkg and its apt sources."""
    tree = debian_root.minbase()
    assert debian_root.complete(tree)
    assert Path(tree, "etc", "apt", "sources.list").read_text().strip() or \
        any(Path(tree, "etc", "apt", "sources.list.d").iterdir())
    assert os.access(tree / "usr" / "bin" / "apt-get", os.X_OK)
