"""workspaceMount's source and type: a bind source is served (through the FUSE workspace view)
at the mount's target, a volume is bound in as the workspace, other types, unknown keys and a
relative or missing bind source are refused by name. Same fixtures as test_up.py; needs root,
/dev/fuse and runc."""
import os

from test_up import IMAGE, env, pytestmark, up, ws  # noqa: F401 (fixtures and marks)


def owned(path):
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, 1000, 1000)
    return path


def view_mounts(cid):
    """Lines of the host's mount table for the container's workspace view."""
    with open("/proc/self/mounts") as f:
        return [line for line in f if f"/{cid}/workspace " in line]


def test_bind_source_elsewhere(ws):
    other = owned(ws.root / "elsewhere")
    (other / "from-host").write_text("served\n")
    folder = ws.make("proj", {"image": IMAGE, "remoteUser": "vscode",
                              "workspaceMount": f"source={other},target=/workspaces/x,type=bind,"
                                                "consistency=cached",
                              "workspaceFolder": "/workspaces/x"})
    (folder / "in-folder").write_text("not served\n")
    out = up(ws.d, folder)
    assert out["remoteWorkspaceFolder"] == "/workspaces/x"
    p = ws.d("exec", folder, "--", "sh", "-c",
             "pwd; cat from-host; ls /workspaces/x; echo hi > made-inside")
    assert p.stdout.splitlines() == ["/workspaces/x", "served", "from-host"]
    # the write lands in THAT folder, through the FUSE view (owned by the developer)
    st = os.stat(other / "made-inside")
    assert (st.st_uid, (other / "made-inside").read_text()) == (1000, "hi\n")
    assert not (folder / "made-inside").exists()
    assert any(" fuse" in m for m in view_mounts(out["containerId"]))
    # ls shows the container of the folder; du accounts the folder served
    assert [c["folder"] for c in ws.d.json("ls", "--json")] == [str(folder)]
    rows = ws.store.query("SELECT path, in_use FROM workspaces")
    assert {"path": str(other), "in_use": 1} in rows
    # the folder itself is not in the container: no $HOME/config link into it
    p = ws.d("exec", folder, "--", "sh", "-c", 'readlink "$HOME/config" || echo none')
    assert p.stdout.strip() == "none"


def test_bind_of_the_parent_keeps_the_config_link(ws):
    folder = ws.make("kid", {"image": IMAGE, "remoteUser": "vscode",
                             "workspaceMount": "source=${localWorkspaceFolder}/..,"
                                               "target=/workspaces,type=bind",
                             "workspaceFolder": "/workspaces/${localWorkspaceFolderBasename}"})
    (folder / ".devcontainer" / "config").mkdir()
    (folder / ".devcontainer" / "config" / "rc").write_text("mine\n")
    owned(ws.root / "sibling")
    up(ws.d, folder)
    p = ws.d("exec", folder, "--", "sh", "-c", 'pwd; readlink "$HOME/config"; cat "$HOME/config/rc"')
    assert p.stdout.splitlines() == ["/workspaces/kid", "/workspaces/kid/.devcontainer/config",
                                     "mine"]
    # the parent is what is mounted: the folder's sibling is there too
    assert ws.d("exec", folder, "--", "ls", "/workspaces").stdout.split() == ["kid", "sibling"]


def test_subfolder_bind(ws):
    folder = ws.make("sub", {"image": IMAGE,
                             "workspaceMount": "source=${localWorkspaceFolder}/src,"
                                               "target=/workspaces/x,type=bind",
                             "workspaceFolder": "/workspaces/x"})
    owned(folder / "src")
    (folder / "src" / "main.c").write_text("int main;\n")
    up(ws.d, folder)
    assert ws.d("exec", folder, "--", "ls").stdout.split() == ["main.c"]


def test_volume_workspace_survives_rebuild(ws):
    folder = ws.make("vol", {"image": IMAGE,
                             "workspaceMount": "type=volume,source=ws-${devcontainerId},"
                                               "target=/workspaces/v",
                             "workspaceFolder": "/workspaces/v"})
    out = up(ws.d, folder)
    ws.d("exec", folder, "--", "sh", "-c", "pwd > where; echo kept > data")
    assert not (folder / "data").exists()
    vols = list((ws.store.path / "volumes").glob("ws-*"))
    assert len(vols) == 1 and (vols[0] / "data").read_text() == "kept\n"
    assert (vols[0] / "where").read_text() == "/workspaces/v\n"
    assert view_mounts(out["containerId"]) == []  # no FUSE view for a volume
    assert ws.d("up", folder).stdout.startswith("running ")  # found running without a view
    ws.d("rebuild", folder)
    assert ws.d("exec", folder, "--", "cat", "data").stdout == "kept\n"
    volumes = ws.d("du", "-v").stdout.split("Local volumes space usage:")[1]
    assert vols[0].name in volumes


def refused(ws, name, mount, *want):
    folder = ws.make(name, {"image": IMAGE, "workspaceMount": mount})
    p = ws.d("up", folder, check=1)
    err = p.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "devcontainer.json: workspaceMount" in err, err
    for w in want:
        assert w in err, err
    assert ws.d.json("ls", "--json") == []  # nothing made


def test_refusals(ws):
    refused(ws, "tmpfs", "type=tmpfs,target=/workspaces/t", "type 'tmpfs' is not supported")
    refused(ws, "npipe", "source=/x,target=/w,type=npipe", "'npipe'")
    refused(ws, "rel", "source=rel/dir,target=/w,type=bind", "'rel/dir' is not an absolute path")
    refused(ws, "nosrc", "target=/w,type=bind", "needs a source")
    refused(ws, "missing", f"source={ws.root}/nowhere,target=/w,type=bind",
            f"does not exist: {ws.root}/nowhere")
    refused(ws, "unknown", "source=/tmp,target=/w,type=bind,bind-propagation=rshared",
            "unknown key 'bind-propagation'")
    refused(ws, "reltarget", "source=/tmp,target=w,type=bind", "absolute target")
    refused(ws, "badvol", "type=volume,source=a/b,target=/w", "bad volume name 'a/b'")
    refused(ws, "overdev", "source=/tmp,target=/dev,type=bind", "over /dev")


def test_mounts_strings_are_parsed_as_strictly(ws):
    """`mounts` strings go through the same parser: a key dcfs does not act on is refused by
    name, and a mount without a type is a volume, as Docker reads it."""
    folder = ws.make("mountkey", {"image": IMAGE, "mounts": [
        "source=/tmp,target=/m,type=bind,bind-propagation=rshared"]})
    p = ws.d("up", folder, check=1)
    err = p.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "mounts: unknown key 'bind-propagation'" in err, err
    assert ws.d.json("ls", "--json") == []
    folder = ws.make("mountpath", {"image": IMAGE, "mounts": ["source=./src,target=/x"]})
    assert "bad volume name './src' (a mount without a type is a volume" in ws.d(
        "up", folder, check=1).stderr
    folder = ws.make("mountnotype", {"image": IMAGE, "mounts": ["source=notype-vol,target=/v"]})
    ws.d("up", folder)
    ws.d("exec", folder, "--", "sh", "-c", "echo kept > /v/f")
    assert "notype-vol" in ws.d("du", "-v").stdout.split("Local volumes space usage:")[1]
