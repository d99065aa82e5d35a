"""dcfs read-configuration: devcontainer.json found, parsed (JSONC), normalized, substituted and
printed the way the reference CLI (@devcontainers/cli) prints it.

The expected outputs under fixtures/config/<case>/expected.json were produced by the reference
CLI 0.89.0 (`devcontainer read-configuration --workspace-folder proj-<case>
[--include-merged-configuration]`, with a docker stand-in that reports no containers and images
without labels, and DCFS_TEST_HOME=/home/tester DCFS_TEST_TZ=Europe/Paris), its
`ociAuthDiagnostics` dropped and the temporary folder replaced by @ROOT@; expected.txt, where
present, is its stdout byte for byte (the same edits). Node is not needed here.
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "config"
CORPUS = REPO.parent / "shared" / "corpus" / "devcontainer"
CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file()) if CORPUS.is_dir() else []
FIXTURE_CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").is_file())
ENV = {"DCFS_TEST_HOME": "/home/tester", "DCFS_TEST_TZ": "Europe/Paris"}


def read_config(dcfs, *args, check=True, cwd=None, env=None):
    full = dict(ENV, **(env or {}))
    if cwd is None:
        return dcfs("read-configuration", *args, check=check, env=full)
    return _run_in(dcfs, cwd, args, check, full)


def _run_in(dcfs, cwd, args, check, env):
    """Run from `cwd` (the default folder is "."); the binary's path is made absolute first."""
    cmd = [str(Path(dcfs.binary).resolve()), "--store", str(dcfs.store.path), "read-configuration"]
    cmd += [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=dict(os.environ, **env),
                       stdin=subprocess.DEVNULL, timeout=60)
    want = 0 if check is True else check
    assert check is False or p.returncode == want, \
        f"{cmd}: exit {p.returncode}, expected {want}\n{p.stdout}\n{p.stderr}"
    return p


def load(text):
    # Integers as floats, so that 2000 and 2e3 compare equal wherever they came from.
    return json.loads(text, parse_int=float)


# ---- the corpus ---------------------------------------------------------------------------


def corpus_id(p):
    return str(p.relative_to(CORPUS))


@pytest.mark.skipif(not CORPUS_FILES, reason=f"no devcontainer corpus at {CORPUS}")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=corpus_id)
def test_corpus_file_reads(dcfs, tmp_path, path):
    out = load(read_config(dcfs, "--config", path, "--include-merged-configuration",
                           tmp_path).stdout)
    assert out["configuration"]["configFilePath"]["fsPath"] == str(path)
    assert out["workspace"]["workspaceFolder"]
    assert "mergedConfiguration" in out


@pytest.mark.skipif(not CORPUS_FILES, reason=f"no devcontainer corpus at {CORPUS}")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=corpus_id)
def test_corpus_file_broken(dcfs, tmp_path, path):
    """A stray '@' before the first key, and one after the value, are reported exactly."""
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    first_key = next(i for i, l in enumerate(lines) if re.match(r'^\s*"[A-Za-z]+"\s*:', l))
    indent = len(lines[first_key]) - len(lines[first_key].lstrip())
    f = tmp_path / "devcontainer.json"
    f.write_text("\n".join(lines[:first_key]) + "\n" + " " * indent + "@" +
                 lines[first_key].lstrip() + "\n" + "\n".join(lines[first_key + 1:]))
    p = read_config(dcfs, "--config", f, tmp_path, check=1)
    assert p.stderr == (f"dcfs: read-configuration: {f}:{first_key + 1}:{indent + 1}: "
                        "expected a string key or '}'\n")
    f.write_text("\n".join(lines) + "\n@")
    p = read_config(dcfs, "--config", f, tmp_path, check=1)
    assert p.stderr == (f"dcfs: read-configuration: {f}:{len(lines) + 1}:1: "
                        "expected the end of the input after the top-level value\n")


# ---- malformed JSONC ----------------------------------------------------------------------

MALFORMED = [
    ('{\n  "image": "x"\n  "name": "y"\n}', 3, 3, "expected ',' or '}' after an object member"),
    ('{\n  "image" "x"\n}', 2, 11, "expected ':' after an object key"),
    ('{\n  "a": [1 2]\n}', 2, 11, "expected ',' or ']' after an array element"),
    ('{\n  "a": "unterminated\n}', 2, 8, "unterminated string: expected '\"' before the end of the line"),
    ('{\n  "a": "\\q"\n}', 2, 9, "bad escape"),
    ('{\n  /* open\n', 2, 3, "unterminated comment: expected '*/'"),
    ('{\n  "a": tru\n}', 2, 8, "bad literal 'tru'"),
    ('{\n  "a": 01\n}', 2, 9, "bad number: a leading zero must stand alone"),
    ('{\n  "a": -x\n}', 2, 9, "bad number: expected a digit after '-'"),
    ('{}\n}', 2, 1, "expected the end of the input after the top-level value"),
    ('', 1, 1, "expected a value"),
    ('// nothing\n', 2, 1, "expected a value"),
    ('{\n\t"\u00e9\u00e9": 1 x\n}', 2, 10, "expected ',' or '}' after an object member"),
    ('{"a": "tab\there"}', 1, 11, "control character U+0009 in a string"),
]


@pytest.mark.parametrize("text,line,col,msg", MALFORMED)
def test_malformed(dcfs, tmp_path, text, line, col, msg):
    f = tmp_path / "bad.json"
    f.write_text(text)
    p = read_config(dcfs, "--config", f, tmp_path, check=1)
    assert p.stderr.startswith(f"dcfs: read-configuration: {f}:{line}:{col}: {msg}"), p.stderr
    assert p.stderr.count("\n") == 1
    assert p.stdout == ""


def test_error_names_found_file(dcfs, tmp_path):
    (tmp_path / ".devcontainer.json").write_text('{"a": 1,, }')
    p = read_config(dcfs, check=1, cwd=tmp_path)
    assert p.stderr == ("dcfs: read-configuration: ./.devcontainer.json:1:9: expected a string "
                        "key or '}'\n")


def test_jsonc_accepted(dcfs, tmp_path):
    (tmp_path / ".devcontainer.json").write_bytes(
        b'\xef\xbb\xbf// c\n{/* x */ "image": "i", "a": [1,], "a": {"b": 2,},}\n')
    out = load(read_config(dcfs, tmp_path).stdout)["configuration"]
    assert list(out) == ["image", "a", "configFilePath"]
    assert out["a"] == {"b": 2}


def test_not_an_object(dcfs, tmp_path):
    f = tmp_path / "c.json"
    f.write_text("[1]")
    p = read_config(dcfs, "--config", f, tmp_path, check=1)
    assert p.stderr == (f"dcfs: read-configuration: {f}:1:1: expected a JSON object at the top "
                        "level, not an array\n")


# ---- finding the file ---------------------------------------------------------------------


def test_none_found(dcfs, tmp_path):
    p = read_config(dcfs, tmp_path, check=1)
    assert p.stderr == (f"dcfs: read-configuration: no devcontainer.json in '{tmp_path}' (looked "
                        "for .devcontainer/devcontainer.json, .devcontainer.json and "
                        ".devcontainer/*/devcontainer.json)\n")


def test_search_order(dcfs, tmp_path):
    (tmp_path / ".devcontainer" / "sub").mkdir(parents=True)
    (tmp_path / ".devcontainer" / "sub" / "devcontainer.json").write_text('{"name": "sub"}')
    name = lambda: load(read_config(dcfs, tmp_path).stdout)["configuration"]["name"]
    assert name() == "sub"
    (tmp_path / ".devcontainer.json").write_text('{"name": "top"}')
    assert name() == "top"
    (tmp_path / ".devcontainer" / "devcontainer.json").write_text('{"name": "folder"}')
    assert name() == "folder"


def test_several_subfolders(dcfs, tmp_path):
    for sub in ("b", "a"):
        (tmp_path / ".devcontainer" / sub).mkdir(parents=True)
        (tmp_path / ".devcontainer" / sub / "devcontainer.json").write_text("{}")
    p = read_config(dcfs, tmp_path, check=1)
    assert p.stderr == (f"dcfs: read-configuration: several configurations in '{tmp_path}' "
                        "(.devcontainer/a/devcontainer.json, .devcontainer/b/devcontainer.json): "
                        "choose one with --config\n")


def test_relative_config_and_default_folder(dcfs, tmp_path):
    proj = tmp_path / "proj"
    (proj / "cfg").mkdir(parents=True)
    (proj / "cfg" / "x.json").write_text('{"image": "i", "w": "${localWorkspaceFolder}"}')
    out = load(read_config(dcfs, "--config", "cfg/../cfg/x.json", cwd=proj).stdout)
    assert out["configuration"]["configFilePath"] == {
        "$mid": 1, "fsPath": str(proj / "cfg" / "x.json"), "path": str(proj / "cfg" / "x.json"),
        "scheme": "file"}
    assert out["configuration"]["w"] == str(proj)
    assert out["workspace"] == {"workspaceFolder": "/workspaces/proj",
                                "workspaceMount": f"type=bind,source={proj},target=/workspaces/proj"}


# ---- substitution and normalization -------------------------------------------------------


def test_substitution(dcfs, tmp_path):
    proj = tmp_path / "my,proj"
    proj.mkdir()
    (proj / ".devcontainer.json").write_text(json.dumps({
        "a": "${localEnv:DCFS_TEST_HOME}|${env:DCFS_TEST_TZ}|${localEnv:DCFS_TEST_UNSET}",
        "b": "${localEnv:DCFS_TEST_UNSET:dflt}|${localEnv:DCFS_TEST_UNSET:x:y}",
        "c": ["${localWorkspaceFolder}", "${localWorkspaceFolderBasename}",
              {"d": "${containerWorkspaceFolder}|${containerWorkspaceFolderBasename}"}],
        "e": "${containerEnv:PATH} ${devcontainerId} ${nope} ${localEnv:DCFS_TEST_HOME",
        "${localEnv:DCFS_TEST_HOME}": 1,
    }))
    out = load(read_config(dcfs, proj).stdout)
    c = out["configuration"]
    assert c["a"] == "/home/tester|Europe/Paris|"
    assert c["b"] == "dflt|x:y"  # a default may contain ":" (the reference CLI would cut it)
    assert c["c"] == [str(proj), "my,proj", {"d": "/workspaces/my,proj|my,proj"}]
    assert c["e"] == "${containerEnv:PATH} ${devcontainerId} ${nope} ${localEnv:DCFS_TEST_HOME"
    assert "${localEnv:DCFS_TEST_HOME}" in c
    assert out["workspace"]["workspaceMount"] == \
        f'type=bind,"source={proj}","target=/workspaces/my,proj"'


def test_substitution_needs_a_name(dcfs, tmp_path):
    (tmp_path / ".devcontainer.json").write_text('{"a": "${localEnv}"}')
    p = read_config(dcfs, tmp_path, check=1)
    assert p.stderr == ("dcfs: read-configuration: '${localEnv}' in .devcontainer.json can not "
                        "be resolved because no environment variable name is given\n")


def test_legacy_properties(dcfs, tmp_path):
    (tmp_path / ".devcontainer.json").write_text(json.dumps({
        "extensions": ["x"], "settings": {"s": 1, "t": 1}, "devPort": None, "dockerFile": "D",
        "context": "..", "customizations": {"vscode": {"settings": {"t": 2, "u": 3}}}}))
    c = load(read_config(dcfs, tmp_path).stdout)["configuration"]
    assert list(c) == ["dockerFile", "context", "customizations", "configFilePath"]
    assert json.dumps(c["customizations"]) == json.dumps(
        {"vscode": {"settings": {"s": 1.0, "t": 2.0, "u": 3.0}, "extensions": ["x"], "devPort": None}})


def test_options_after_folder(dcfs, tmp_path):
    (tmp_path / ".devcontainer.json").write_text('{"image": "i"}')
    out = load(read_config(dcfs, tmp_path, "--include-merged-configuration").stdout)
    assert out["mergedConfiguration"]["image"] == "i"


# ---- the reference CLI's output -----------------------------------------------------------


def store_image_with_label(dcfs, store, tmp_path, ref, label):
    """An image `ref` in the store whose OCI config carries a devcontainer.metadata label
    (imports record no labels, so the config is set in the catalog directly)."""
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("x\n")
    dcfs("import", root, ref)
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Labels": {"devcontainer.metadata": label}}}
    store.execute("UPDATE images SET config = ? WHERE ref = ?", (json.dumps(config), ref))


@pytest.mark.parametrize("case", FIXTURE_CASES)
def test_matches_reference(dcfs, store, tmp_path, case):
    """Cases with a label.json have their image in the store with that devcontainer.metadata
    label (the reference CLI saw it through `docker image inspect`)."""
    proj = tmp_path / f"proj-{case}"
    shutil.copytree(FIXTURES / case / "input", proj)
    folder = proj
    if case == "gitroot":
        (proj / ".git").mkdir()
        folder = proj / "sub"
    label = FIXTURES / case / "label.json"
    if label.is_file():
        image = json.loads((proj / ".devcontainer.json").read_text())["image"]
        store_image_with_label(dcfs, store, tmp_path, image, label.read_text().strip())
    expected_text = (FIXTURES / case / "expected.json").read_text().replace("@ROOT@", str(tmp_path))
    expected = load(expected_text)
    args = [folder] + (["--include-merged-configuration"] if "mergedConfiguration" in expected else [])
    if (FIXTURES / case / "label.json").is_file():
        # Without the flag the label plays no part.
        plain = load(read_config(dcfs, folder).stdout)
        assert json.dumps(plain["configuration"]) == json.dumps(expected["configuration"])
    p = read_config(dcfs, *args)
    got = load(p.stdout)
    # Same values and the same key order everywhere.
    assert json.dumps(got, indent=1) == json.dumps(expected, indent=1)
    text = FIXTURES / case / "expected.txt"
    if text.is_file():
        # The reference's exact bytes: JavaScript's number forms and key order.
        assert p.stdout == text.read_text().replace("@ROOT@", str(tmp_path))


def test_git_root_mount(dcfs, tmp_path):
    """The enclosing repository's root is mounted (as with the reference's default
    --mount-workspace-git-root true); with false, the folder itself."""
    sub = tmp_path / "repo" / "sub"
    sub.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    (sub / ".devcontainer.json").write_text("{}")
    ws = lambda *a: load(read_config(dcfs, sub, *a).stdout)["workspace"]
    assert ws() == {"workspaceFolder": "/workspaces/repo/sub",
                    "workspaceMount": f"type=bind,source={tmp_path}/repo,target=/workspaces/repo"}
    assert ws("--mount-workspace-git-root", "false") == {
        "workspaceFolder": "/workspaces/sub",
        "workspaceMount": f"type=bind,source={sub},target=/workspaces/sub"}
