"""devcontainer.json is checked as written (issue 11, item 2): wrong types and invalid values
are errors naming FILE:LINE:COL, unknown (misspelled) names and properties dcfs does not act on
are warnings (`dcfs: warning: FILE:LINE:COL: ...` on stderr), `up`/`prebuild`/`rebuild` refuse
features and Dockerfile/Compose configurations by position, warn about unmet hostRequirements
and note (and record) the editor extensions. And the figure: every property of every
configuration of the corpus is supported (launcher/config/config_schema.c says so) or named.
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, Dcfs, Store, dcfs_binary

CORPUS = REPO.parent / "shared" / "corpus" / "devcontainer"
CORPUS_FILES = sorted(CORPUS.rglob("devcontainer.json")) if CORPUS.is_dir() else []
SCHEMA = REPO / "launcher" / "config" / "config_schema.c"

needs_containers = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="needs /dev/fuse"),
    pytest.mark.skipif(shutil.which("runc") is None, reason="needs runc"),
]


def write(tmp_path, text):
    f = tmp_path / "devcontainer.json"
    f.write_text(text)
    return f


def read_config(dcfs, f, check=True):
    return dcfs("read-configuration", "--config", f, f.parent, check=check)


def warnings(p):
    return [l[len("dcfs: warning: "):] for l in p.stderr.splitlines()
            if l.startswith("dcfs: warning: ")]


# ---- errors -------------------------------------------------------------------------------

ERRORS = [
    ('{\n  "image": 5\n}', 2, 12, '"image" must be a string, not an integer'),
    ('{\n  "image": "i",\n    "postCreateCommand": 42\n}', 3, 26,
     '"postCreateCommand" must be a string, an array of strings or an object of those'),
    ('{"postStartCommand": {"a": 1}}', 1, 28,
     '"postStartCommand.a" must be a string or an array of strings, not an integer'),
    ('// top\n[{"image": "i"}]', 2, 1, "expected a JSON object at the top level, not an array"),
    ('"image"', 1, 1, "expected a JSON object at the top level, not a string"),
    ('{\n\t"shutdownAction": "stopNow"\n}', 2, 20,
     '"shutdownAction": "stopNow" is not one of none,stopContainer,stopCompose'),
    ('{"image": "i", "shutdownAction": "stopCompose"}', 1, 34,
     '"shutdownAction": "stopCompose" needs a "dockerComposeFile" configuration'),
    ('{"forwardPorts": [3000,\n  65536]}', 2, 3,
     '"forwardPorts[1]": 65536 is not a port: expected an integer 0 to 65535 or "host:port"'),
    ('{"forwardPorts": ["db:x"]}', 1, 19, '"forwardPorts[0]": "db:x" is not a port'),
    ('{"forwardPorts": [-1]}', 1, 19, '"forwardPorts[0]": -1 is not a port'),
    ('{"userEnvProbe": "bash"}', 1, 18, '"userEnvProbe": "bash" is not one of none,loginShell,'),
    ('{"waitFor": "postStart"}', 1, 13, '"waitFor": "postStart" is not one of initializeCommand,'),
    ('{"appPort": {"a": 1}}', 1, 13, '"appPort" must be a string, an integer or an array'),
    ('{"workspaceMount": ["a"]}', 1, 20, '"workspaceMount" must be a string, not an array'),
    ('{"hostRequirements": {"cpus": 1.5}}', 1, 31,
     '"hostRequirements.cpus" must be an integer, not a number'),
    ('{"hostRequirements": {"storage": "lots"}}', 1, 34,
     '"hostRequirements.storage": "lots" is not a size'),
    ('{"mounts": [3]}', 1, 13, '"mounts[0]" must be a string or an object, not an integer'),
    ('{"mounts": [{"type": "tmpfs", "target": "/t"}]}', 1, 22,
     '"mounts[0].type": "tmpfs" is not one of bind,volume'),
    ('{"containerEnv": {"A": 1}}', 1, 24, '"containerEnv.A" must be a string, not an integer'),
    ('{"capAdd": ["X", false]}', 1, 18, '"capAdd[1]" must be a string, not a boolean'),
    ('{"features": {"a": {},\n  "b": false}}', 2, 8,
     '"features.b" must be an object of options, a version string or true, not a boolean'),
    ('{"overrideFeatureInstallOrder": ["a", 1]}', 1, 39,
     '"overrideFeatureInstallOrder[1]" must be a string, not an integer'),
]


@pytest.mark.parametrize("text,line,col,msg", ERRORS)
def test_errors(dcfs, tmp_path, text, line, col, msg):
    f = write(tmp_path, text)
    p = read_config(dcfs, f, check=1)
    assert p.stderr.startswith(f"dcfs: read-configuration: {f}:{line}:{col}: {msg}"), p.stderr
    assert p.stdout == ""


def test_error_names_the_file_as_found(dcfs, tmp_path):
    (tmp_path / ".devcontainer.json").write_text('{"image": true}')
    p = subprocess.run([str(Path(dcfs.binary).resolve()), "--store", str(dcfs.store.path),
                        "read-configuration"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 1
    assert p.stderr == ("dcfs: read-configuration: ./.devcontainer.json:1:11: \"image\" must be "
                        "a string, not a boolean\n")


# ---- warnings -----------------------------------------------------------------------------

def test_misspelled_names(dcfs, tmp_path):
    f = write(tmp_path, '{\n  "image": "i",\n  "postCreateComand": "x",\n  "RemoteUser": "u",\n'
                        '  "build": {"dockerfle": "D"},\n  "hostRequirements": {"memroy": "1gb"},\n'
                        '  "portsAttributes": {"3000": {"lable": "app"}},\n'
                        '  "mounts": [{"type": "bind", "source": "/a", "targte": "/b"}],\n'
                        '  "customizations": {"vscode": {"extensons": []}, "other": {"x": 1}},\n'
                        '  "somethingElse": 1\n}')
    p = read_config(dcfs, f)
    json.loads(p.stdout)  # stdout stays pure JSON
    w = warnings(p)
    assert f'{f}:3:3: unknown property "postCreateComand": did you mean "postCreateCommand"?' in w
    assert f'{f}:4:3: unknown property "RemoteUser": did you mean "remoteUser"?' in w
    assert f'{f}:5:13: unknown property "dockerfle" in "build": did you mean "dockerfile"?' in w
    assert (f'{f}:6:24: unknown property "memroy" in "hostRequirements": did you mean '
            '"memory"?') in w
    assert (f'{f}:7:32: unknown property "lable" in "portsAttributes.3000": did you mean '
            '"label"?') in w
    assert (f'{f}:8:47: unknown property "targte" in "mounts[0]": did you mean "target"?') in w
    assert f'{f}:10:3: unknown property "somethingElse": dcfs ignores it' in w
    # the customizations of tools are theirs: no word about them
    assert not [l for l in w if "extensons" in l or "other" in l]


def test_not_acted_on(dcfs, tmp_path):
    f = write(tmp_path, '{"image": "i", "name": "n", "$schema": "s",\n'
                        ' "devPort": 8000, "settings": {"a": 1},\n'
                        ' "portsAttributes": {}, "otherPortsAttributes": {"label": "x"},\n'
                        ' "secrets": {"TOKEN": {"description": "d"}},\n'
                        ' "overrideFeatureInstallOrder": [],\n'
                        ' "hostRequirements": {"gpu": "optional"},\n'
                        ' "customizations": {"vscode": {"settings": {}}}}')
    w = warnings(read_config(dcfs, f))
    named = {re.search(r'"([A-Za-z.$]+)":', l.split(": ", 1)[1]).group(1): l for l in w}
    assert sorted(named) == sorted(["devPort", "settings", "portsAttributes",
                                    "otherPortsAttributes", "secrets",
                                    "hostRequirements.gpu"]), w
    assert named["devPort"] == f'{f}:2:2: "devPort": the editor server\'s port: dcfs runs no editor server'
    assert named["hostRequirements.gpu"].startswith(f'{f}:6:23: "hostRequirements.gpu": not checked')
    assert len(w) == 6  # one line each; nothing about name, $schema, customizations or
    # overrideFeatureInstallOrder


def test_features_accepted_by_read_configuration(dcfs, tmp_path):
    f = write(tmp_path, '{\n  "image": "i",\n  "features": {\n    "ghcr.io/devcontainers/features/go:1": {},\n'
                        '    "node": {"version": "lts"},\n    "./x": "1", "y": true\n  },\n'
                        '  "overrideFeatureInstallOrder": ["node"]\n}')
    p = read_config(dcfs, f)
    assert json.loads(p.stdout)["configuration"]["features"]
    assert warnings(p) == []


# ---- what up refuses, before anything is pulled or made -------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="up needs root")
def test_compose_without_an_engine(dcfs, tmp_path):
    """A Compose configuration runs on an engine: none answering is one line, nothing made."""
    f = write(tmp_path, '{"dockerComposeFile": ["a.yml"], "service": "s"}')
    env = {"DOCKER_HOST": f"unix://{tmp_path}/nobody.sock"}
    p = dcfs("up", "--config", f, tmp_path, check=1, env=env)
    assert len(p.stderr.splitlines()) == 1 and "nobody.sock" in p.stderr, p.stderr
    p = dcfs("up", "--engine", "runc", "--config", f, tmp_path, check=1)
    assert p.stderr == f"dcfs: up: {f}: a Docker Compose configuration needs an engine " \
        "(--engine podman or --engine docker), not runc\n"
    assert not (dcfs.store.path / "containers").exists() or \
        not list((dcfs.store.path / "containers").iterdir())


@pytest.mark.skipif(os.geteuid() != 0, reason="up needs root")
def test_up_warns_host_requirements(dcfs, tmp_path):
    """Unmet requirements are warned about before `up` goes on (here it then fails to pull)."""
    f = write(tmp_path, '{"image": "nowhere.invalid/x",\n "hostRequirements": {"cpus": 100000,\n'
                        '  "memory": "1000000tb", "storage": "1.5tb",\n  "gpu": true}}')
    p = dcfs("up", "--json", "--config", f, tmp_path, check=1)
    w = warnings(p)
    cpus = os.cpu_count()
    assert f"{f}:2:23: hostRequirements.cpus: 100000 CPUs required, this machine has " \
           f"{cpus} online" in w, w
    assert any(l.startswith(f'{f}:3:3: hostRequirements.memory: "1000000tb" required, this '
                            'machine has ') and l.endswith(" of memory") for l in w), w
    assert f'{f}:4:3: "hostRequirements.gpu": not checked: dcfs gives containers no GPU' in w
    st = os.statvfs(dcfs.store.path if dcfs.store.path.exists() else dcfs.store.path.parent)
    if st.f_bavail * st.f_frsize < 1.5 * 2**40:
        assert any(l.startswith(f'{f}:3:26: hostRequirements.storage: "1.5tb" required, the '
                                f"store's filesystem ({dcfs.store.path}) has ") for l in w), w
    # met requirements say nothing
    f = write(tmp_path, '{"image": "nowhere.invalid/x", "hostRequirements": {"cpus": 1, '
                    '"memory": "1kb", "storage": "1kb"}}')
    p = dcfs("up", "--config", f, tmp_path, check=1)
    assert "hostRequirements" not in p.stderr, p.stderr


# ---- a real up: warnings on stderr, stdout pure JSON, the extensions noted and recorded -----

@pytest.fixture(scope="module")
def busybox(tmp_path_factory):
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse") or shutil.which("runc") is None:
        pytest.skip("needs root, /dev/fuse and runc")
    base = tmp_path_factory.mktemp("check")
    rootfs = base / "rootfs"
    subprocess.run(["bash", str(REPO / "tools" / "make-busybox-rootfs.sh"), str(rootfs)],
                   check=True, capture_output=True)
    d = Dcfs(dcfs_binary(), Store(base / "store"))
    d("import", rootfs, "busybox:demo")
    return d, base


def test_up_extensions_and_warnings(busybox):
    d, base = busybox
    folder = base / "ext"
    (folder / ".devcontainer").mkdir(parents=True)
    f = folder / ".devcontainer" / "devcontainer.json"
    f.write_text('{\n  "image": "busybox:demo",\n  "extensions": ["a.one"],\n'
                 '  "customizations": {"vscode": {"extensions": ["b.two", "c.three"]}},\n'
                 '  "forwardPort": [1]\n}')
    try:
        p = d("up", "--json", folder)
        out = json.loads(p.stdout)  # the only thing on stdout
        assert out["outcome"] == "success"
        shown = ".devcontainer/devcontainer.json"
        assert (f"dcfs: warning: {folder}/{shown}:5:3: unknown property \"forwardPort\": did you "
                "mean \"forwardPorts\"?") in p.stderr.splitlines()
        assert "note: 3 editor extensions recorded (dcfs installs none): b.two, c.three, a.one" \
            in p.stderr.splitlines()
        rec = d.store.path / "containers" / out["containerId"] / "extensions.json"
        assert json.loads(rec.read_text()) == ["b.two", "c.three", "a.one"]
        # again: the running container; the warnings are said again, once
        p = d("up", folder)
        assert p.stderr.count("unknown property \"forwardPort\"") == 1
        assert "note: 3 editor extensions recorded" in p.stdout
    finally:
        d("rm", "-f", folder, check=False)


# ---- the figure: every property of the corpus is supported or named ------------------------

TABLES = {None: "top_props", "build": "build_props", "hostRequirements": "host_props",
          "mounts": "mount_props", "portsAttributes": "port_attr_props",
          "otherPortsAttributes": "port_attr_props", "secrets": "secret_props"}


def schema_support():
    """{parent (None: the top level): {name: support}}, from launcher/config/config_schema.c."""
    text = SCHEMA.read_text()
    tables = {}
    for m in re.finditer(r"static const dcfs_schema_prop (\w+)\[\] = \{(.*?)\n\};", text, re.S):
        t = {}
        for p in re.finditer(r'\{"([^"]+)",[^{}]*?(DCFS_[A-Z_]+),\s*(?:[a-z_]+|"[^"]*"|NULL)\}',
                             m.group(2)):
            t[p.group(1)] = p.group(2)
        for p in re.finditer(r'LIFECYCLE\("([^"]+)"', m.group(2)):
            t[p.group(1)] = "DCFS_SUPPORTED"
        tables[m.group(1)] = t
    return {parent: tables[name] for parent, name in TABLES.items()}


def strip_jsonc(text):
    out, i, in_str = [], 0, False
    while i < len(text):
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
            continue
        else:
            out.append(c)
        i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


CHECKED_NESTED = ("build", "hostRequirements", "otherPortsAttributes")


def properties(config):
    """(dotted name, parent or None) of every property the check walks."""
    for k, v in config.items():
        yield k, None
        if k in CHECKED_NESTED and isinstance(v, dict):
            for kk in v:
                yield f"{k}.{kk}", k
        if k == "mounts" and isinstance(v, list):
            for i, m in enumerate(v):
                for kk in (m if isinstance(m, dict) else {}):
                    yield f"{k}[{i}].{kk}", k
        if k in ("portsAttributes", "secrets") and isinstance(v, dict):
            for port, attrs in v.items():
                for kk in (attrs if isinstance(attrs, dict) else {}):
                    yield f"{k}.{port}.{kk}", k


@pytest.mark.skipif(os.geteuid() != 0, reason="up needs root")
@pytest.mark.skipif(not CORPUS_FILES, reason=f"no devcontainer corpus at {CORPUS}")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_every_property_supported_or_named(dcfs, tmp_path, path):
    schema = schema_support()
    support = schema[None]
    config = json.loads(strip_jsonc(path.read_text(encoding="utf-8-sig")))
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    p = dcfs("read-configuration", "--config", path, tmp_path)
    said = warnings(p)
    refuses = [k for k in config if support.get(k) == "DCFS_IMAGE_ONLY"]
    if refuses:
        up = dcfs("up", "--config", path, tmp_path, check=1)
        said += [l.split(": ", 2)[2] for l in up.stderr.splitlines() if l.startswith("dcfs: up: ")]
        assert "pulling" not in up.stdout + up.stderr
    # every message names an exact place, and the place holds a key the message names
    for msg in said:
        m = re.match(re.escape(str(path)) + r":(\d+):(\d+): (.*)", msg)
        assert m, msg
        line, col = int(m.group(1)), int(m.group(2))
        key = re.match(r'"([^"]+)"', lines[line - 1][col - 1:]).group(1)
        assert key in m.group(3), msg
    text = "\n".join(said)
    for name, parent in properties(config):
        leaf = re.split(r"[.\]]", name)[-1]
        own = schema[parent].get(leaf) if parent else support.get(name)
        if own in ("DCFS_SUPPORTED", "DCFS_RECORDED") and \
                (not parent or support.get(parent) == "DCFS_SUPPORTED"):
            continue
        named = f'"{name}"' in text or f'"{leaf}"' in text or \
            (parent and support.get(parent) != "DCFS_SUPPORTED" and f'"{parent}"' in text)
        assert named, f"{path}: {name} is neither supported nor named:\n{text}"
    # what `up` refuses is refused by it, each by name and place
    for k in refuses:
        assert f'"{k}"' in text
