"""Dockerfile configurations: `dcfs up` builds them with a real builder (podman here), stores the
image as `localhost/dcfs-build/<folder>:<first 12 hex of the build key>`, and reuses it while
the build key (Dockerfile, context less .dockerignore, args, target, options) is unchanged.

The base image is a busybox rootfs imported with `dcfs import` and pushed with `dcfs push` to a
loopback registry (docker-registry), once per module; the Dockerfiles say FROM 127.0.0.1:PORT/...
and the configurations pass "--tls-verify=false" in build.options. podman runs on a private
storage (overlay, in the module's tmp folder) and configuration handed to dcfs through the
environment (CONTAINERS_STORAGE_CONF, CONTAINERS_CONF), which dcfs hands to the builder. Each
test has a store of its own (the conftest's `dcfs`), so that each first `up` builds.

Needs root, /dev/fuse, runc, podman and docker-registry (skipped otherwise).
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from build_env import (PrivatePodman, export_files, image_config, path_without, push_base,
                       registries_conf, tree_files)
from conftest import REPO, Dcfs, Store, dcfs_binary
from registry import Registry

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="needs /dev/fuse"),
    pytest.mark.skipif(shutil.which("runc") is None, reason="needs runc (apt-get install runc)"),
    pytest.mark.skipif(shutil.which("podman") is None,
                       reason="needs podman, the builder (tools/install-deps.sh)"),
    pytest.mark.skipif(shutil.which("docker-registry") is None,
                       reason="needs docker-registry (tools/install-deps.sh)"),
    pytest.mark.timeout(900),  # a build pulls and runs containers: minutes on a loaded machine
]

BUILD_PREFIX = "[build] "


# ---- module fixtures: the registry with the base image, the builder ----------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """(registry, base image reference): busybox imported, pushed, kept for the module."""
    top = tmp_path_factory.mktemp("build-base")
    reg = Registry(top / "registry").start()
    rootfs = top / "rootfs"
    subprocess.run(["bash", str(REPO / "tools" / "make-busybox-rootfs.sh"), str(rootfs)],
                   check=True, capture_output=True)
    d = Dcfs(dcfs_binary(), Store(top / "store"))
    try:
        yield reg, push_base(d, reg, rootfs)
    finally:
        reg.stop()


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    p = PrivatePodman(tmp_path_factory.mktemp("build-podman"))
    yield p
    p.close()


class Folders:
    """Workspace folders with a .devcontainer/devcontainer.json and a Dockerfile, removed with
    `dcfs rm -f` after the test. `env` is what every dcfs call gets (podman's variables)."""

    def __init__(self, dcfs, store, podman, base, root):
        self.dcfs, self.store, self.podman = dcfs, store, podman
        self.registry, self.base = base
        self.root = root
        self.env = dict(podman.env)
        self.made = []

    def make(self, name, dockerfile, config=None, files=None, dockerignore=None):
        """FOLDER with .devcontainer/Dockerfile (FROM {base} filled in), context "..", the
        configuration `config` (default: build.dockerfile with --tls-verify=false), `files`
        (path -> text) in the folder and a .dockerignore at its root."""
        folder = self.root / name
        dc = folder / ".devcontainer"
        dc.mkdir(parents=True, exist_ok=True)
        (dc / "Dockerfile").write_text(dockerfile.replace("{base}", self.base))
        if config is None:
            config = {"build": {"dockerfile": "Dockerfile", "context": "..",
                                "options": ["--tls-verify=false"]}}
        (dc / "devcontainer.json").write_text(json.dumps(config, indent=1))
        for rel, text in (files or {}).items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        if dockerignore is not None:
            (folder / ".dockerignore").write_text(dockerignore)
        for p in (folder, dc):
            os.chown(p, 1000, 1000)
        if folder not in self.made:
            self.made.append(folder)
        return folder

    def __call__(self, *args, env=None, **kw):
        return self.dcfs(*args, env=dict(self.env, **(env or {})), **kw)

    def up(self, folder, *extra, check=True, env=None):
        """`dcfs up FOLDER`: (CompletedProcess, its "[build] " lines)."""
        p = self("up", *extra, folder, check=check, env=env)
        return p, build_lines(p)

    def no_builder_path(self):
        return path_without(self.root / "bin-no-builder")

    def built(self, folder) -> list:
        """The store's images named after `folder`'s builds."""
        prefix = f"localhost/dcfs-build/{folder.name}:"
        return [i for i in json.loads(self("images", "--json").stdout)
                if i["ref"].startswith(prefix)]

    def built_ref(self, folder) -> str:
        refs = [i["ref"] for i in self.built(folder)]
        assert len(refs) == 1, f"expected one image built from {folder.name}, got {refs}"
        assert re.fullmatch(rf"localhost/dcfs-build/{re.escape(folder.name)}:[0-9a-f]{{12}}",
                            refs[0]), refs[0]
        return refs[0]

    def container_image(self, folder) -> str:
        """The image of `folder`'s container, which must be running."""
        [c] = [c for c in self.dcfs.json("ls", "--json") if c["folder"] == str(folder)]
        assert c["state"] == "running", c
        return c["image"]

    def exec(self, folder, script) -> list:
        return self("exec", folder, "--", "sh", "-c", script).stdout.splitlines()

    def manifest_gets(self) -> int:
        """How many manifest GETs of the base image the registry has logged."""
        repo = self.base.split("/", 1)[1].rsplit(":", 1)[0]
        return sum(1 for line in self.registry.log.read_text(errors="replace").splitlines()
                   if f'"GET /v2/{repo}/manifests/' in line)

    def cleanup(self):
        for f in self.made:
            self("rm", "-f", f, check=False)


def build_lines(p) -> list:
    return [l for l in (p.stdout + p.stderr).splitlines() if l.startswith(BUILD_PREFIX)]


def last_line(p) -> str:
    lines = p.stderr.strip().splitlines()
    return lines[-1] if lines else ""


@pytest.fixture
def ws(dcfs, store, podman, base, tmp_path):
    w = Folders(dcfs, store, podman, base, tmp_path / "ws")
    yield w
    w.cleanup()


# ---- the Dockerfiles ---------------------------------------------------------------------------

MULTI_STAGE = """\
FROM {base} AS tools
ARG GREETING=hello
RUN mkdir -p /out && echo "$GREETING from tools" > /out/greeting \\
 && chmod 0604 /out/greeting && ln -s greeting /out/link && ln /out/greeting /out/hard
FROM {base}
ARG WHO=nobody
ENV APP_HOME=/srv/app WHO_ENV=${WHO}
COPY --from=tools /out/ /opt/tools/
COPY app/ /srv/app/
RUN chown -R 1000:1000 /srv/app && chmod 0750 /srv/app/main.sh && echo built > /etc/built
USER vscode
WORKDIR /srv/app
LABEL org.example.kind=test
CMD ["sleep", "infinity"]
"""

APP = {"app/main.sh": "echo main\n", "app/data/config.txt": "setting=1\n",
       "app/secret.txt": "ignored\n", "app/debug.log": "ignored too\n"}
IGNORE = "app/secret.txt\n*.log\n**/*.log\n"


def multi_stage(ws, name):
    config = {"build": {"dockerfile": "Dockerfile", "context": "..",
                        "args": {"WHO": "dev", "GREETING": "hi"},
                        "options": ["--tls-verify=false", "--label=org.example.option=yes"]}}
    return ws.make(name, MULTI_STAGE, config, APP, IGNORE)


PROBE = ("id -un; echo $APP_HOME $WHO_ENV; cat /opt/tools/greeting; readlink /opt/tools/link; "
         "echo $(ls -A /srv/app); stat -c '%a %u' /srv/app/main.sh; cat /etc/built")


def check_multi_stage_container(ws, folder, main="main"):
    assert ws.exec(folder, PROBE) == [
        "vscode", "/srv/app dev", "hi from tools", "greeting", "data main.sh", "750 1000",
        "built"]
    assert ws.exec(folder, "/bin/sh /srv/app/main.sh") == [main]


# ---- tests -------------------------------------------------------------------------------------


def test_multi_stage_build_then_cache_hit_without_builder(ws):
    """The first up builds (streaming "[build] " lines), stores the image under its name and
    starts the container from it; later ups, after rm and rebuild too, run no builder: they
    work with no builder on PATH and do not ask the registry for the base image."""
    folder = multi_stage(ws, "multi")
    p, lines = ws.up(folder)
    assert lines, f"no '[build] ' line in the first up's output:\n{p.stdout}\n{p.stderr}"
    assert any("COPY --from=tools" in l for l in lines), lines
    ref = ws.built_ref(folder)
    assert ws.container_image(folder) == ref
    check_multi_stage_container(ws, folder)
    # the stored config is the builder's: USER, WORKDIR, ENV, CMD, LABEL and build.options
    cfg = json.loads(ws.store.scalar("SELECT config FROM images WHERE ref = ?", (ref,)))
    conf = cfg["config"]
    assert conf["User"] == "vscode" and conf["WorkingDir"] == "/srv/app"
    assert "APP_HOME=/srv/app" in conf["Env"] and "WHO_ENV=dev" in conf["Env"]
    assert conf["Labels"]["org.example.kind"] == "test"
    assert conf["Labels"]["org.example.option"] == "yes"

    gets = ws.manifest_gets()
    no_builder = {"PATH": ws.no_builder_path()}
    ws("rm", "-f", folder)
    p, lines = ws.up(folder, env=no_builder)
    assert not lines, "an unchanged configuration ran the builder again:\n" + "\n".join(lines)
    assert ws.built_ref(folder) == ref
    check_multi_stage_container(ws, folder)
    p = ws("rebuild", folder, env=no_builder)
    assert not build_lines(p), "rebuild of an unchanged configuration ran the builder"
    check_multi_stage_container(ws, folder)
    assert ws.manifest_gets() == gets, "a cache hit asked the registry for the base image"
    assert [i["ref"] for i in ws.built(folder)] == [ref]


def test_dockerignore_and_context_changes(ws):
    """Ignored files never reach the image and do not change the key; nor does a touch. A
    changed context file builds a new image."""
    folder = multi_stage(ws, "ctx")
    ws.up(folder)
    ref = ws.built_ref(folder)
    assert ws.exec(folder, "ls -A /srv/app /srv/app/data") == [
        "/srv/app:", "data", "main.sh", "", "/srv/app/data:", "config.txt"]

    (folder / "app" / "secret.txt").write_text("changed, still ignored\n")
    (folder / "app" / "new.log").write_text("new, ignored\n")
    (folder / "app" / "data" / "deep.log").write_text("ignored at any depth\n")
    os.utime(folder / "app" / "main.sh", (1_800_000_000, 1_800_000_000))
    ws("rm", "-f", folder)
    p, lines = ws.up(folder, env={"PATH": ws.no_builder_path()})
    assert not lines, "an ignored file or a touch changed the build key"
    assert ws.built_ref(folder) == ref

    (folder / "app" / "main.sh").write_text("echo changed\n")
    ws("rm", "-f", folder)
    p, lines = ws.up(folder)
    assert lines, "a changed context file did not build again"
    refs = [i["ref"] for i in ws.built(folder)]
    new = [r for r in refs if r != ref]
    assert len(new) == 1, refs
    assert ws.container_image(folder) == new[0]
    check_multi_stage_container(ws, folder, main="changed")


def test_build_args_and_target(ws):
    """build.target picks the stage; a build arg reaches the stage; changing the target or an
    arg is a new build."""
    dockerfile = """\
FROM {base} AS common
ARG FLAVOUR=plain
RUN echo "$FLAVOUR" > /flavour
FROM common AS dev
RUN echo dev > /stage
FROM common AS prod
RUN echo prod > /stage
"""
    def config(target, flavour):
        return {"build": {"dockerfile": "Dockerfile", "context": "..", "target": target,
                          "args": {"FLAVOUR": flavour}, "options": ["--tls-verify=false"]}}
    folder = ws.make("target", dockerfile, config("dev", "mint"))
    ws.up(folder)
    assert ws.exec(folder, "cat /stage /flavour") == ["dev", "mint"]
    refs = [ws.built_ref(folder)]
    for target, flavour in (("prod", "mint"), ("prod", "lime")):
        ws.make("target", dockerfile, config(target, flavour))
        ws("rm", "-f", folder)
        p, lines = ws.up(folder)
        assert lines, f"target {target}, FLAVOUR={flavour}: no new build"
        assert ws.exec(folder, "cat /stage /flavour") == [target, flavour]
        refs.append(ws.container_image(folder))
    assert len(set(refs)) == 3, refs


def test_failing_run(ws):
    """A failing RUN: up fails with a last line naming the instruction and its exit code, and
    nothing is recorded (no image, no container)."""
    folder = ws.make("failing", "FROM {base}\nRUN echo before the failure\nRUN exit 3\n"
                                "RUN echo never\n")
    before = ws.dcfs.images()
    p, lines = ws.up(folder, check=False)
    assert p.returncode != 0
    last = last_line(p)
    assert last.startswith("dcfs: up: "), p.stderr
    assert "RUN exit 3" in last and re.search(r"\b3\b", last.replace("RUN exit 3", "")), last
    assert any("before the failure" in l for l in lines), lines
    assert ws.dcfs.images() == before
    assert not ws.built(folder)
    assert all(c["folder"] != str(folder) for c in ws.dcfs.json("ls", "--json"))
    assert "0 problems" in ws("fsck").stdout


def test_no_builder(ws):
    """No builder on PATH: one line naming the packages that provide one; --builder buildah
    when buildah is missing names buildah. Nothing is stored."""
    folder = ws.make("nobuilder", "FROM {base}\nRUN true\n")
    p, lines = ws.up(folder, check=False, env={"PATH": ws.no_builder_path()})
    assert p.returncode != 0 and not lines
    last = last_line(p)
    assert last.startswith("dcfs: up: ") and "podman" in last and "buildah" in last, p.stderr

    no_buildah = path_without(ws.root / "bin-no-buildah", ("buildah",))
    p, lines = ws.up(folder, "--builder", "buildah", check=False, env={"PATH": no_buildah})
    assert p.returncode != 0 and not lines
    assert "buildah" in last_line(p) and last_line(p).startswith("dcfs: up: "), p.stderr
    assert not ws.built(folder)
    assert all(c["folder"] != str(folder) for c in ws.dcfs.json("ls", "--json"))


def builders_image(ws, folder, ref, digest) -> str:
    """The image the builder made for `ref` in podman's storage: the one of that name or of
    that ID (dcfs's digest is the SHA-256 of the config, as podman's image ID is), else the
    same build run again (every step from podman's layer cache: the same image)."""
    for img in ws.podman.images():
        names = img.get("Names") or []
        if ref in names or "sha256:" + img["Id"] == digest:
            return img["Id"]
    ws.podman.run("build", "--tls-verify=false", "--label=org.example.option=yes",
                  "--build-arg", "WHO=dev", "--build-arg", "GREETING=hi",
                  "-f", folder / ".devcontainer" / "Dockerfile", "-t", "localhost/check:1", folder)
    return "localhost/check:1"


def test_stored_image_equals_the_builders(ws, tmp_path):
    """The files (path, type, mode, owner, size, content, symlink target) of the stored image,
    seen through `dcfs mount`, are those of the builder's image (`podman export`), and its
    config (Env, User, WorkingDir, Cmd, Entrypoint, Labels) is podman's."""
    folder = multi_stage(ws, "same")
    ws.up(folder)
    ref = ws.built_ref(folder)
    [info] = ws.built(folder)
    image = builders_image(ws, folder, ref, info["digest"])
    want = export_files(ws.podman.export(image, tmp_path / "export.tar"))
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    ws("mount", "--image", ref, mnt)
    try:
        got = tree_files(mnt)
    finally:
        ws("umount", mnt, check=False)
    problems = [f"{p}: only in podman's image {want[p]}" for p in sorted(set(want) - set(got))]
    problems += [f"{p}: only in the store {got[p]}" for p in sorted(set(got) - set(want))]
    problems += [f"{p}: podman {want[p]}, store {got[p]}"
                 for p in sorted(set(want) & set(got)) if want[p] != got[p]]
    assert not problems, "stored image differs from the builder's:\n  " + "\n  ".join(problems)
    assert "opt/tools/hard" in got and "srv/app/secret.txt" not in got

    stored = json.loads(ws.store.scalar("SELECT config FROM images WHERE ref = ?", (ref,)))
    assert image_config(stored["config"]) == image_config(ws.podman.inspect(image)["Config"])
    # and the container sees that config
    assert ws.exec(folder, "id -u; env | grep -E '^(APP_HOME|WHO_ENV)=' | sort") == [
        "1000", "APP_HOME=/srv/app", "WHO_ENV=dev"]


def test_rebuild_full_builds_again_and_du_lists_the_build(ws):
    """`rebuild --full` builds again with the base pulled afresh (the registry is asked for it);
    `du -v` lists the built image with the configuration file that made it."""
    folder = ws.make("full", "FROM {base}\nRUN echo one > /one\n")
    ws.up(folder)
    ref = ws.built_ref(folder)
    du = ws("du", "-v").stdout
    config_file = str(folder / ".devcontainer" / "devcontainer.json")
    assert ref in du and config_file in du, du
    gets = ws.manifest_gets()
    p = ws("rebuild", "--full", "--yes", folder)
    assert build_lines(p), "rebuild --full ran no builder:\n" + p.stdout + p.stderr
    assert ws.manifest_gets() > gets, "rebuild --full did not pull the base image again"
    assert ws.exec(folder, "cat /one") == ["one"]
    assert [i["ref"] for i in ws.built(folder)] == [ws.built_ref(folder)]


def test_legacy_dockerfile(ws):
    """The legacy top-level dockerFile and context (the registry reached through a
    registries.conf that allows HTTP, since build.options is not used here)."""
    ws.root.mkdir(parents=True, exist_ok=True)
    ws.env["CONTAINERS_REGISTRIES_CONF"] = str(registries_conf(ws.root, [ws.registry.host]))
    folder = ws.make("legacy", "FROM {base}\nCOPY marker /marker\nUSER vscode\n",
                     {"dockerFile": "Dockerfile", "context": ".."}, {"marker": "legacy\n"})
    p, lines = ws.up(folder)
    assert lines
    ws.built_ref(folder)
    assert ws.exec(folder, "id -un; cat /marker") == ["vscode", "legacy"]


def test_prebuild_of_a_dockerfile_configuration(ws):
    """A prebuild of a Dockerfile configuration is used by the next `up` (onCreateCommand does
    not run again); a changed context file changes the build key, so the prebuild is not used
    and `up` says the build changed."""
    config = {"build": {"dockerfile": "Dockerfile", "context": "..",
                        "options": ["--tls-verify=false"]},
              "onCreateCommand": "echo oncreate >> /etc/oncreate-ran",
              "postCreateCommand": "echo post"}
    folder = ws.make("pre", "FROM {base}\nCOPY marker /marker\n", config, {"marker": "one\n"})
    p = ws("prebuild", folder)
    assert build_lines(p), p.stdout + p.stderr
    p, lines = ws.up(folder)
    assert not lines, "up after the prebuild built again:\n" + "\n".join(lines)
    assert "prebuild: starting from snapshot" in p.stdout, p.stdout
    assert ws.exec(folder, "cat /marker; cat /etc/oncreate-ran") == ["one", "oncreate"]
    ws("rm", "-f", folder)
    (folder / "marker").write_text("two\n")
    p, lines = ws.up(folder)
    assert lines, "a changed context file did not build again"
    assert "the build (the Dockerfile, its context" in p.stdout, p.stdout
    assert ws.exec(folder, "cat /marker") == ["two"]


def test_missing_dockerfile_is_one_line(ws):
    """A Dockerfile that is not there: one error naming the configuration file, the property and
    the path; nothing is built or recorded."""
    folder = ws.make("nofile", "FROM {base}\n")
    (folder / ".devcontainer" / "Dockerfile").unlink()
    p = ws("up", folder, check=1)
    config_file = folder / ".devcontainer" / "devcontainer.json"
    assert last_line(p) == (f"dcfs: up: {config_file}: build.dockerfile: "
                            f"{folder}/.devcontainer/Dockerfile: No such file or directory"), p.stderr
    assert not build_lines(p)
    assert ws.built(folder) == []


def test_feature_over_a_build(ws):
    """A local feature installs over the built image (it sees the Dockerfile's file), and a
    second up finds both the build and the feature's layer: nothing is built or installed."""
    config = {"build": {"dockerfile": "Dockerfile", "context": "..",
                        "options": ["--tls-verify=false"]},
              "features": {"./stamp": {"word": "hello"}}}
    folder = ws.make("feat", "FROM {base}\nRUN echo built > /built\n", config, {
        ".devcontainer/stamp/devcontainer-feature.json": json.dumps(
            {"id": "stamp", "version": "1.0.0",
             "options": {"word": {"type": "string", "default": "x"}}}),
        ".devcontainer/stamp/install.sh": "#!/bin/sh\nset -e\n"
                                           "echo \"$(cat /built) $WORD\" > /stamped\n"})
    p, lines = ws.up(folder)
    assert lines, "the Dockerfile was not built"
    assert "feature stamp" in p.stdout + p.stderr and "installed" in p.stdout + p.stderr, \
        p.stdout + p.stderr
    assert ws.exec(folder, "cat /stamped") == ["built hello"]
    ws("rm", "-f", folder)
    p, lines = ws.up(folder)
    assert not lines, "the second up built again:\n" + "\n".join(lines)
    assert "cached" in p.stdout + p.stderr and "[feature stamp]" not in p.stdout + p.stderr, \
        p.stdout + p.stderr
    assert ws.exec(folder, "cat /stamped") == ["built hello"]
