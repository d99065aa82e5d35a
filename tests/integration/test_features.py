"""Dev Container Features in `dcfs up`: small features made by the tests, on the busybox image.

Each feature is a folder with a devcontainer-feature.json and an install.sh (#!/bin/sh) that
appends its id to /etc/feature-order and writes what it saw into /etc/feature-<id>.*; it is
served three ways: as an OCI artifact from a loopback registry (feature_env.push_feature), as a
local folder under .devcontainer/ ("./f") and as a tarball URL on loopback HTTP. The tests check
what the spec and issue 15 ask of `up`: options and their defaults as install.sh's environment,
the install order (dependsOn, installsAfter, overrideFeatureInstallOrder), the errors (each one
line naming the feature, no container left), the metadata merge (containerEnv, mounts, capAdd,
lifecycle commands before the configuration's, read-configuration's mergedConfiguration), the
cache (a second up finds every layer; a changed option reinstalls that feature and those after
it), a failing install.sh, `du`'s featureList, `rebuild --full` and prebuilds.

Needs root, /dev/fuse, runc and docker-registry (skipped otherwise).
"""
import json
import os
import re
import shutil
from pathlib import Path

import pytest

import feature_env
from registry import Registry
from test_up import IMAGE, Workspaces, busybox_store, pytestmark, up  # noqa: F401

pytestmark = pytestmark + [
    pytest.mark.skipif(shutil.which("docker-registry") is None,
                       reason="needs docker-registry (apt-get install docker-registry)"),
]

ORDER = "/etc/feature-order"  # each install.sh appends its id


# ---- the module's store, registry and tarball server -------------------------------------------


class FeatureServers:
    """The loopback registry and tarball server the features are served from."""

    def __init__(self, base: Path):
        self.registry = Registry(base).start()
        self.http = feature_env.TarballServer().start()

    def push(self, repo: str, folder: Path, tag="1") -> str:
        """The OCI reference of `folder` pushed as REPO:TAG (the key to write in `features`)."""
        feature_env.push_feature(self.registry, repo, tag, folder)
        return f"{self.registry.host}/{repo}:{tag}"

    def push_digest(self, repo: str, folder: Path, tag="1") -> str:
        """The same, referenced by the manifest's digest."""
        digest = feature_env.push_feature(self.registry, repo, tag, folder)
        return f"{self.registry.host}/{repo}@{digest}"

    def tarball(self, name: str, folder: Path) -> str:
        """The URL of `folder` packed as a tarball named NAME."""
        self.http.files["/" + name] = feature_env.pack(folder, compress=True)
        return self.http.url("/" + name)

    def stop(self):
        self.http.stop()
        self.registry.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """(Dcfs, Store, base folder) with busybox:demo imported (test_up's env)."""
    base = tmp_path_factory.mktemp("features")
    d, store, _ = busybox_store(base)
    return d, store, base


@pytest.fixture(scope="module")
def servers(env):
    s = FeatureServers(env[2] / "registry")
    yield s
    s.stop()


@pytest.fixture
def ws(env, request):
    w = Workspaces(env, request)
    yield w
    w.cleanup()


# ---- making features ---------------------------------------------------------------------------


def recording_install(fid: str, extra="") -> str:
    """An install.sh that appends FID to ORDER, keeps its environment, cwd and folder listing,
    says a line on stdout, then runs `extra`."""
    return (f"#!/bin/sh\nset -e\necho {fid} >> {ORDER}\nenv > /etc/feature-{fid}.env\n"
            f"pwd > /etc/feature-{fid}.pwd\nls > /etc/feature-{fid}.ls\n"
            f"echo installing {fid}\n{extra}")


def make_feature(folder: Path, fid: str, install=None, version="1.0.0", **props) -> Path:
    """FOLDER with devcontainer-feature.json {id, version, **props} and an executable install.sh
    (recording_install(fid) unless given)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"id": fid, "version": version, "name": fid}
    meta.update(props)
    (folder / "devcontainer-feature.json").write_text(json.dumps(meta, indent=1))
    sh = folder / "install.sh"
    sh.write_text(install if install is not None else recording_install(fid))
    sh.chmod(0o755)
    return folder


def local(ws_folder: Path, fid: str, **kw) -> str:
    """A local feature ./FID under WS/.devcontainer; returns its key."""
    make_feature(ws_folder / ".devcontainer" / fid, fid, **kw)
    return f"./{fid}"


def scratch(ws, name) -> Path:
    """A folder for a feature's source outside any workspace."""
    p = ws.root / "src" / name
    p.mkdir(parents=True, exist_ok=True)
    return p


def config(features: dict, **extra) -> dict:
    c = {"image": IMAGE, "remoteUser": "vscode", "features": features}
    c.update(extra)
    return c


def workspace(ws, name, features_of, **extra):
    """A workspace NAME whose configuration's features are features_of(folder) (a dict: local
    features need the folder to exist first)."""
    folder = ws.make(name, {"image": IMAGE})
    ws.make(name, config(features_of(folder), **extra))
    return folder


def rewrite(folder: Path, cfg: dict):
    (folder / ".devcontainer" / "devcontainer.json").write_text(json.dumps(cfg))


# ---- reading what up said ----------------------------------------------------------------------


def outcomes(stderr: str) -> dict:
    """feature id -> "installed" or "cached", from up's per-feature lines."""
    out = {}
    for line in stderr.splitlines():
        if line.startswith("[feature "):
            continue  # install.sh's own output
        m = re.search(r"feature (\S+)\b.*\b(installed|cached)\b", line)
        if m:
            out[m.group(1).rstrip(":,")] = m.group(2)
    return out


def order(ws, folder) -> list:
    return ws.d("exec", folder, "--", "cat", ORDER).stdout.split()


def cat(ws, folder, path) -> str:
    return ws.d("exec", folder, "--", "cat", path).stdout


def env_of(ws, folder, fid) -> dict:
    text = cat(ws, folder, f"/etc/feature-{fid}.env")
    return dict(l.split("=", 1) for l in text.splitlines() if "=" in l)


def containers_of(ws, folder):
    return [c for c in ws.d.json("ls", "--json") if c["folder"] == str(folder)]


def feature_list(ws) -> list:
    return ws.d.json("du", "--json").get("featureList")


def up_p(ws, folder, check=True):
    """`dcfs up --json FOLDER`: its notes (the per-feature lines among them) go to stderr."""
    return ws.d("up", "--json", folder, check=check)


def up_err(ws, folder):
    """An up that must fail: (its last stderr line, the process)."""
    p = up_p(ws, folder, check=False)
    assert p.returncode != 0, f"up succeeded:\n{p.stdout}\n{p.stderr}"
    lines = p.stderr.strip().splitlines()
    assert lines, "up failed without a word on stderr"
    assert containers_of(ws, folder) == [], "a failed up left a container"
    errors = [l for l in lines if l.startswith("dcfs:") and not l.startswith("dcfs: warning:")]
    assert len(errors) == 1, f"expected one error line, got {errors}"
    return lines[-1], p


# ---- the three sources --------------------------------------------------------------------------


def test_local_feature_options_and_environment(ws):
    options = {
        "greeting": {"type": "string", "default": "hello"},
        "flag": {"type": "boolean", "default": False},
        "other-flag": {"type": "boolean", "default": True},
        "my-opt.x": {"type": "string", "default": "dflt"},
        "size": {"type": "string", "enum": ["s", "m", "l"], "default": "s"},
        "1st": {"type": "string", "default": "one"},
    }
    folder = workspace(ws, "loc", lambda f: {
        local(f, "opts", options=options): {"greeting": "hi there", "flag": True}})
    p = up_p(ws, folder)
    assert outcomes(p.stderr) == {"opts": "installed"}, p.stderr
    assert "[feature opts] installing opts" in p.stderr
    e = env_of(ws, folder, "opts")
    assert e["GREETING"] == "hi there"
    assert e["FLAG"] == "true"
    assert e["OTHER_FLAG"] == "true"
    assert e["MY_OPT_X"] == "dflt"
    assert e["SIZE"] == "s"
    assert e["_ST"] == "one"  # leading digits and underscores become one "_"
    assert e["_REMOTE_USER"] == "vscode"
    assert e["_REMOTE_USER_HOME"] == "/home/vscode"
    assert e["_CONTAINER_USER"] == "root"
    assert e["_CONTAINER_USER_HOME"] == "/root"
    # run as root, in the feature's folder, which holds its files
    pwd = cat(ws, folder, "/etc/feature-opts.pwd").strip()
    assert re.fullmatch(r"/tmp/dev-container-features/opts_\d+", pwd), pwd
    assert {"install.sh", "devcontainer-feature.json"} <= set(
        cat(ws, folder, "/etc/feature-opts.ls").split())
    assert ws.d("exec", folder, "--", "stat", "-c", "%u", "/etc/feature-opts.env").stdout \
        .strip() == "0"
    assert order(ws, folder) == ["opts"]


def test_string_value_sets_version_and_undeclared_option_warns(ws):
    opts = {"version": {"type": "string", "default": "latest"}}
    folder = workspace(ws, "ver", lambda f: {
        local(f, "v1", options=opts): "1.2.3",
        local(f, "v2", options=opts): {"version": "9", "unknown": "u"}})
    p = up_p(ws, folder)
    assert env_of(ws, folder, "v1")["VERSION"] == "1.2.3"
    assert env_of(ws, folder, "v2")["VERSION"] == "9"
    assert any("unknown" in l and "v2" in l for l in p.stderr.splitlines()
               if not l.startswith("[feature ")), p.stderr


def test_oci_features_by_tag_and_digest(ws, servers):
    by_tag = servers.push("features/hello", make_feature(scratch(ws, "hello"), "hello",
                          options={"who": {"type": "string", "default": "world"}}))
    by_digest = servers.push_digest("features/pinned", make_feature(scratch(ws, "pinned"),
                                                                    "pinned"))
    folder = workspace(ws, "oci", lambda f: {by_tag: {"who": "dcfs"}, by_digest: {}})
    p = up_p(ws, folder)
    assert outcomes(p.stderr) == {"hello": "installed", "pinned": "installed"}, p.stderr
    assert env_of(ws, folder, "hello")["WHO"] == "dcfs"
    assert sorted(order(ws, folder)) == ["hello", "pinned"]
    assert re.fullmatch(r"/tmp/dev-container-features/hello_\d+",
                        cat(ws, folder, "/etc/feature-hello.pwd").strip())


def test_tarball_feature(ws, servers):
    url = servers.tarball("devcontainer-feature-tarred.tgz",
                          make_feature(scratch(ws, "tarred"), "tarred",
                                       options={"level": {"type": "string", "default": "3"}}))
    assert url.startswith("http://127.0.0.1:")
    folder = workspace(ws, "tgz", lambda f: {url: {}})
    p = up_p(ws, folder)
    assert outcomes(p.stderr) == {"tarred": "installed"}, p.stderr
    assert env_of(ws, folder, "tarred")["LEVEL"] == "3"
    assert order(ws, folder) == ["tarred"]


# ---- the install order ----------------------------------------------------------------------------


def test_depends_on_adds_and_orders(ws, servers):
    base = servers.push("order/base", make_feature(scratch(ws, "base"), "base",
                        options={"mode": {"type": "string", "default": "plain"}}))
    top = servers.push("order/top", make_feature(scratch(ws, "top"), "top",
                       dependsOn={base: {"mode": "fancy"}}))
    folder = workspace(ws, "dep", lambda f: {top: {}})
    p = up_p(ws, folder)
    assert order(ws, folder) == ["base", "top"]
    assert env_of(ws, folder, "base")["MODE"] == "fancy"
    assert outcomes(p.stderr) == {"base": "installed", "top": "installed"}, p.stderr


def test_installs_after(ws, servers):
    first = servers.push("order/first", make_feature(scratch(ws, "first"), "first"))
    resource = first.rsplit(":", 1)[0]
    later = servers.push("order/later", make_feature(scratch(ws, "later"), "later",
                         installsAfter=[resource]))
    folder = workspace(ws, "after", lambda f: {later: {}, first: {}})
    up_p(ws, folder)
    assert order(ws, folder) == ["first", "later"]
    # soft: a feature named in installsAfter but absent is not added
    alone = workspace(ws, "after-alone", lambda f: {later: {}})
    up_p(ws, alone)
    assert order(ws, alone) == ["later"]


def test_override_feature_install_order(ws):
    def feats(f):
        return {local(f, n): {} for n in ("ova", "ovb", "ovc")}
    folder = workspace(ws, "ovr", feats, overrideFeatureInstallOrder=["./ovc", "./ova"])
    up_p(ws, folder)
    assert order(ws, folder) == ["ovc", "ova", "ovb"]


# ---- errors: one line naming the feature, nothing left ------------------------------------------


def test_depends_on_cycle(ws, servers):
    host = servers.registry.host
    servers.push("cycle/c1", make_feature(scratch(ws, "c1"), "c1",
                 dependsOn={f"{host}/cycle/c2:1": {}}))
    c2 = servers.push("cycle/c2", make_feature(scratch(ws, "c2"), "c2",
                      dependsOn={f"{host}/cycle/c1:1": {}}))
    folder = workspace(ws, "cyc", lambda f: {c2: {}})
    last, p = up_err(ws, folder)
    assert last.startswith("dcfs: ") and re.search(r"\bc[12]\b", last), last
    assert "[feature " not in p.stderr  # nothing installed


def test_depends_on_unfetchable(ws, servers):
    missing = f"{servers.registry.host}/nowhere/missing:1"
    needy = servers.push("deps/needy", make_feature(scratch(ws, "needy"), "needy",
                         dependsOn={missing: {}}))
    folder = workspace(ws, "unf", lambda f: {needy: {}})
    last, _ = up_err(ws, folder)
    assert last.startswith("dcfs: ") and "nowhere/missing" in last, last


@pytest.mark.parametrize("given,accepts", [
    ({"flag": "yes"}, ("boolean", "true")),
    ({"size": "xl"}, ("\"s\"", "s, m", "s|m", "'s'")),
    ({"greeting": 42}, ("string",)),
])
def test_bad_option_value(ws, given, accepts):
    options = {"flag": {"type": "boolean", "default": False},
               "size": {"type": "string", "enum": ["s", "m"], "default": "s"},
               "greeting": {"type": "string", "default": "hello"}}
    folder = workspace(ws, "badopt", lambda f: {local(f, "picky", options=options): given})
    last, p = up_err(ws, folder)
    name = next(iter(given))
    assert last.startswith("dcfs: ") and "./picky" in last and name in last, last
    assert any(a in last for a in accepts), last
    assert "[feature " not in p.stderr


def test_feature_json_not_json(ws):
    def feats(f):
        key = local(f, "broken")
        (f / ".devcontainer" / "broken" / "devcontainer-feature.json").write_text(
            '{\n  "id": "broken",\n  "version": "1.0.0",\n  "options": {,\n}\n')
        return {key: {}}
    folder = workspace(ws, "nj", feats)
    last, _ = up_err(ws, folder)
    assert re.search(r"broken/devcontainer-feature\.json:4:\d+", last), last


def test_oci_reference_the_registry_lacks(ws, servers):
    ref = f"{servers.registry.host}/features/nothere:1"
    folder = workspace(ws, "nothere", lambda f: {ref: {}})
    last, _ = up_err(ws, folder)
    assert last.startswith("dcfs: ") and "features/nothere" in last, last


def test_failing_install_sh(ws):
    install = ("#!/bin/sh\necho some detail >&2\nsleep 0.3\necho starting\necho the-last-line\n"
               "exit 7\n")
    folder = workspace(ws, "boom", lambda f: {local(f, "okay"): {},
                                              local(f, "boom", install=install): {}},
                       overrideFeatureInstallOrder=["./okay", "./boom"])
    last, p = up_err(ws, folder)
    assert "./boom" in last and "install.sh" in last and re.search(r"\b7\b", last), last
    assert "the-last-line" in last, last
    assert "[feature boom] starting" in p.stderr
    ids = [f["id"] for f in feature_list(ws) or []]
    assert "boom" not in ids, "a failed install left a layer"


# ---- metadata --------------------------------------------------------------------------------------


def test_metadata_merge(ws):
    meta = {"containerEnv": {"FEAT_ENV": "from-feature", "FEAT_PATH": "/opt/feat/bin"},
            "postCreateCommand": "echo feature >> /tmp/post-create",
            "onCreateCommand": "echo feature >> /tmp/on-create",
            "capAdd": ["SYS_PTRACE"],
            "mounts": [{"type": "volume", "source": "featvol-meta",
                        "target": "/featvol"}]}
    folder = workspace(ws, "meta", lambda f: {local(f, "metaf", **meta): {}},
                       postCreateCommand="echo config >> /tmp/post-create",
                       onCreateCommand="echo config >> /tmp/on-create",
                       containerEnv={"CFG_ENV": "from-config"})
    up_p(ws, folder)
    environ = ws.d("exec", folder, "--", "env").stdout.splitlines()
    assert "FEAT_ENV=from-feature" in environ and "FEAT_PATH=/opt/feat/bin" in environ, environ
    assert "CFG_ENV=from-config" in environ, environ
    assert cat(ws, folder, "/tmp/post-create").split() == ["feature", "config"]
    assert cat(ws, folder, "/tmp/on-create").split() == ["feature", "config"]
    # the volume is mounted; SYS_PTRACE (bit 19) is in the container's bounding set
    mounts = cat(ws, folder, "/proc/self/mounts")
    assert any(l.split()[1] == "/featvol" for l in mounts.splitlines()), mounts
    status = cat(ws, folder, "/proc/1/status")
    bnd = int(re.search(r"^CapBnd:\s*([0-9a-f]+)$", status, re.M).group(1), 16)
    assert bnd & (1 << 19), f"CapBnd {bnd:x} lacks SYS_PTRACE"
    # read-configuration prints the merge as the reference CLI does
    out = ws.d.json("read-configuration", "--include-merged-configuration", folder)
    merged = out["mergedConfiguration"]
    assert merged["postCreateCommands"] == ["echo feature >> /tmp/post-create",
                                            "echo config >> /tmp/post-create"]
    assert merged["onCreateCommands"] == ["echo feature >> /tmp/on-create",
                                          "echo config >> /tmp/on-create"]
    assert "SYS_PTRACE" in merged["capAdd"]
    assert merged["containerEnv"]["CFG_ENV"] == "from-config"


def bundle(ws, cid):
    return json.loads((ws.store.path / "containers" / cid / "bundle" / "config.json").read_text())


def test_entrypoint_init_privileged(ws):
    install = recording_install("ent", "mkdir -p /usr/local/bin\nprintf '#!/bin/sh\\ntouch /tmp/entrypoint-ran\\n"
                                "exec \"$@\"\\n' > /usr/local/bin/ent.sh\n"
                                "chmod 755 /usr/local/bin/ent.sh\n")
    folder = workspace(ws, "ent", lambda f: {local(f, "ent", install=install,
                                                   entrypoint="/usr/local/bin/ent.sh",
                                                   init=True, privileged=True): {}})
    cid = up(ws.d, folder)["containerId"]
    ws.d("exec", folder, "--", "test", "-e", "/tmp/entrypoint-ran")
    b = bundle(ws, cid)
    args = b["process"]["args"]
    assert args[0] == "/.dcfs/init", args
    assert any("/usr/local/bin/ent.sh" in a for a in args), args
    assert "CAP_SYS_ADMIN" in b["process"]["capabilities"]["bounding"]


# ---- the cache ---------------------------------------------------------------------------------------


CHAIN = ["./ca", "./cb", "./cc"]


def chain(f, b_option="one"):
    """Three local features ca, cb, cc (installed in that order: see CHAIN), cb with an option."""
    return {local(f, "ca"): {},
            local(f, "cb", options={"opt": {"type": "string", "default": "one"}}): {"opt": b_option},
            local(f, "cc"): {}}


def test_second_up_is_cached(ws, servers):
    oci = servers.push("cache/remote", make_feature(scratch(ws, "remote"), "remote"))
    first = [oci.rsplit(":", 1)[0]] + CHAIN
    folder = workspace(ws, "cache", lambda f: dict(chain(f), **{oci: {}}),
                       overrideFeatureInstallOrder=first)
    p = up_p(ws, folder)
    assert outcomes(p.stderr) == dict.fromkeys(["remote", "ca", "cb", "cc"], "installed"), p.stderr
    assert order(ws, folder) == ["remote", "ca", "cb", "cc"]
    ws.d("rm", "-f", folder)
    p = up_p(ws, folder)
    assert outcomes(p.stderr) == dict.fromkeys(["remote", "ca", "cb", "cc"], "cached"), p.stderr
    assert "[feature " not in p.stderr, "a cached feature ran its install.sh"
    assert order(ws, folder) == ["remote", "ca", "cb", "cc"]
    # another folder with the same features on the same image finds them too
    other = workspace(ws, "cache2", lambda f: dict(chain(f), **{oci: {}}),
                      overrideFeatureInstallOrder=first)
    assert outcomes(up_p(ws, other).stderr) == dict.fromkeys(
        ["remote", "ca", "cb", "cc"], "cached")


def test_changed_option_reinstalls_it_and_those_after(ws):
    folder = workspace(ws, "chg", chain, overrideFeatureInstallOrder=CHAIN)
    up_p(ws, folder)
    ws.d("rm", "-f", folder)
    rewrite(folder, config(chain(folder, b_option="two"), overrideFeatureInstallOrder=CHAIN))
    p = up_p(ws, folder)
    assert outcomes(p.stderr) == {"ca": "cached", "cb": "installed", "cc": "installed"}, p.stderr
    assert env_of(ws, folder, "cb")["OPT"] == "two"
    assert order(ws, folder) == ["ca", "cb", "cc"]
    # a change to the last feature's files reinstalls it alone
    ws.d("rm", "-f", folder)
    sh = folder / ".devcontainer" / "cc" / "install.sh"
    sh.write_text(recording_install("cc", "echo changed > /etc/cc-changed\n"))
    p = up_p(ws, folder)
    assert outcomes(p.stderr) == {"ca": "cached", "cb": "cached", "cc": "installed"}, p.stderr
    assert cat(ws, folder, "/etc/cc-changed") == "changed\n"
    # a change to the first reinstalls all three
    ws.d("rm", "-f", folder)
    (folder / ".devcontainer" / "ca" / "extra").write_text("new file\n")
    p = up_p(ws, folder)
    assert outcomes(p.stderr) == dict.fromkeys(["ca", "cb", "cc"], "installed"), p.stderr


def test_changed_remote_user_reinstalls(ws):
    folder = workspace(ws, "usr", lambda f: {local(f, "usr"): {}})
    up_p(ws, folder)
    ws.d("rm", "-f", folder)
    rewrite(folder, config({"./usr": {}}, remoteUser="root"))
    p = up_p(ws, folder)
    assert outcomes(p.stderr) == {"usr": "installed"}, p.stderr
    assert env_of(ws, folder, "usr")["_REMOTE_USER"] == "root"


# ---- du, rebuild --full, prebuilds ----------------------------------------------------------------


def test_du_feature_list(ws, servers):
    big = "mkdir -p /opt\ndd if=/dev/zero of=/opt/big bs=1000 count=300 2>/dev/null\n"
    oci = servers.push("du/sized", make_feature(scratch(ws, "sized"), "sized", version="2.1.0",
                                                install=recording_install("sized", big)))
    folder = workspace(ws, "du1", lambda f: {oci: {}, local(f, "small"): {}},
                       overrideFeatureInstallOrder=[oci.rsplit(":", 1)[0]])
    up_p(ws, folder)
    other = workspace(ws, "du2", lambda f: {oci: {}})
    up_p(ws, other)
    names = {c["folder"]: c["name"] for c in ws.d.json("ls", "--json")}
    mine = [f for f in feature_list(ws) if f["id"] in ("sized", "small")]
    by_id = {}
    for f in mine:
        assert set(f) >= {"id", "version", "source", "key", "size", "containers"}, f
        by_id.setdefault(f["id"], []).append(f)
    [sized] = by_id["sized"]  # one layer: both folders install it on the same image
    assert sized["version"] == "2.1.0"
    assert sized["source"] == oci
    assert 300_000 <= sized["size"] < 400_000, sized
    assert sorted(sized["containers"]) == sorted([names[str(folder)], names[str(other)]])
    small = [f for f in by_id["small"] if names[str(folder)] in f["containers"]]
    assert len(small) == 1 and small[0]["source"] == "./small"
    assert small[0]["size"] < sized["size"]
    table = ws.d("du").stdout
    assert "sized" in table and "small" in table, table


def test_rebuild_full_reinstalls_and_rebuild_finds_cached(ws):
    folder = workspace(ws, "rbf", lambda f: {local(f, "ra"): {}, local(f, "rb"): {}})
    up_p(ws, folder)
    assert sorted(f["id"] for f in feature_list(ws) if f["id"] in ("ra", "rb")) == ["ra", "rb"]
    p = ws.d("rebuild", folder)
    assert outcomes(p.stderr) == {"ra": "cached", "rb": "cached"}, p.stderr
    p = ws.d("rebuild", "--full", "--yes", folder)
    assert outcomes(p.stderr) == {"ra": "installed", "rb": "installed"}, p.stderr
    assert sorted(order(ws, folder)) == ["ra", "rb"]
    # the old layers were purged: one layer each, the new ones
    assert sorted(f["id"] for f in feature_list(ws) if f["id"] in ("ra", "rb")) == ["ra", "rb"]


def test_rebuild_full_keeps_layers_another_container_uses(ws):
    def feats(f):
        key = local(f, "shared")
        return {key: {}}
    first = workspace(ws, "sh1", feats)
    up_p(ws, first)
    second = ws.root / "sh2"
    shutil.copytree(first / ".devcontainer", second / ".devcontainer")
    ws.make("sh2", json.loads((first / ".devcontainer" / "devcontainer.json").read_text()))
    p = up_p(ws, second)
    assert outcomes(p.stderr) == {"shared": "cached"}, p.stderr
    p = ws.d("rebuild", "--full", "--yes", second)
    assert outcomes(p.stderr) == {"shared": "cached"}, \
        "rebuild --full purged a layer another container uses:\n" + p.stderr


def test_prebuild_includes_features(ws):
    folder = workspace(ws, "pbf", lambda f: {local(f, "qa"): {}, local(f, "qb"): {}})
    ws.d("prebuild", folder)
    assert containers_of(ws, folder) == []
    p = ws.d("up", "--json", folder)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out.get("prebuild"), out
    assert "installed" not in outcomes(p.stderr).values(), p.stderr
    assert "[feature " not in p.stderr, "an up from a prebuild ran install.sh"
    assert sorted(order(ws, folder)) == ["qa", "qb"]
