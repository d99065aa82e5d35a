"""The container's / is the image's: its mode and owner come from the image's root, not from
the private folder dcfs keeps the container's changes in, so a non-root remote user can list it.
Same fixtures as test_up.py; needs root, /dev/fuse and runc."""
import os

from test_up import IMAGE, env, pytestmark, up, ws  # noqa: F401 (fixtures and marks)


def test_root_has_the_image_roots_mode_and_owner(ws):
    folder = ws.make("rootmode", {"image": IMAGE, "remoteUser": "vscode"})
    cid = up(ws.d, folder)["containerId"]
    p = ws.d("exec", folder, "--", "sh", "-c", "id -u; stat -c '%a %u %g' /; ls / | grep -c etc")
    uid, mode, count = p.stdout.split("\n")[:3]
    assert uid == "1000"  # the check runs as the non-root remote user
    assert mode == "755 0 0"
    assert count == "1"
    upper = ws.store.path / "containers" / cid / "upper"
    st = os.stat(upper)
    assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o755, 0, 0)


def test_a_changed_root_mode_survives_a_restart(ws):
    folder = ws.make("rootchmod", {"image": IMAGE})
    up(ws.d, folder)
    ws.d("exec", folder, "--", "chmod", "750", "/")
    ws.d("down", folder)
    up(ws.d, folder)
    p = ws.d("exec", folder, "--", "stat", "-c", "%a", "/")
    assert p.stdout.strip() == "750"


def test_workspace_folder_over_the_root_or_dev_is_refused(ws):
    for i, wf in enumerate(["/", "//.", "/dev", "/proc/x", "/a/../"]):
        folder = ws.make(f"wfroot{i}", {"image": IMAGE, "workspaceFolder": wf})
        p = ws.d("up", folder, check=1)
        assert "workspaceFolder" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
        made = {p.name for p in folder.iterdir()}
        assert made == {".devcontainer"}, made  # no dev/, proc/ or device node in the user's folder
