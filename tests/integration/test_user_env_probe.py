"""userEnvProbe: the remote user's shell (busybox ash here) is started once per start of the
container with the mode's flags, and what its startup files export reaches the lifecycle
commands and `dcfs exec`, with remoteEnv over it. Busybox ash reads /etc/profile and
~/.profile as a login shell (-l) and the file $ENV as an interactive one (-i), so each mode
sees its own set of the three variables those files export. A profile that hangs is given
up on with a warning, and `up` goes on.

Its own images (a busybox root with those startup files, and one whose /etc/profile hangs or
fails), imported once per module into a temporary store; workspace folders and their
containers as in test_up.py (removed in teardown). Needs root, /dev/fuse and runc."""
import subprocess

import pytest

from conftest import REPO, Dcfs, Store, dcfs_binary
from test_up import pytestmark, up, ws  # noqa: F401 (marks, fixtures)

IMAGE = "busybox:probe"
ODD = "busybox:odd-profile"

PROFILE = """\
echo read >> /tmp/profile-reads
export PROBED=profile SHARED=from-profile
PATH=/usr/local/bin:/usr/bin:/bin
export PATH
"""
# the probe's shell starts in the workspace folder: its name says how this profile misbehaves
ODD_PROFILE = """\
case "$PWD" in
*/hang*) sleep 1000 ;;
*/fail*) exit 3 ;;
esac
export ODD=reached
"""
SHOW = "echo seen: P=$PROBED R=$RCVAR H=$HOMEPROFILE S=$SHARED"


def image(base, d, ref, files):
    rootfs = base / ref.replace(":", "-")
    subprocess.run(["bash", str(REPO / "tools" / "make-busybox-rootfs.sh"), str(rootfs)],
                   check=True, capture_output=True)
    for rel, text in files.items():
        (rootfs / rel).write_text(text)
    (rootfs / "home" / "vscode" / ".profile").touch()
    subprocess.run(["chown", "-R", "1000:1000", str(rootfs / "home" / "vscode")], check=True)
    d("import", rootfs, ref)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("probe")
    store = Store(base / "store")
    d = Dcfs(dcfs_binary(), store)
    image(base, d, IMAGE, {"etc/profile": PROFILE, "etc/ashrc": "export RCVAR=rc\n",
                           "home/vscode/.profile": "export HOMEPROFILE=home\n"})
    image(base, d, ODD, {"etc/profile": ODD_PROFILE})
    return d, store, base


def config(**more):
    """vscode's container, $ENV naming ash's interactive startup file."""
    return {"image": IMAGE, "remoteUser": "vscode", "containerEnv": {"ENV": "/etc/ashrc"},
            **more}


def seen(text):
    return [line for line in text.splitlines() if line.startswith("seen: ")]


MODES = {
    None: "seen: P=profile R=rc H=home S=from-profile",  # the default: loginInteractiveShell
    "loginInteractiveShell": "seen: P=profile R=rc H=home S=from-profile",
    "loginShell": "seen: P=profile R= H=home S=from-profile",
    "interactiveShell": "seen: P= R=rc H= S=",
    "none": "seen: P= R= H= S=",
}


@pytest.mark.parametrize("mode", list(MODES), ids=[str(m) for m in MODES])
def test_each_mode_reaches_lifecycle_and_exec(ws, mode):
    more = {"userEnvProbe": mode} if mode else {}
    folder = ws.make(f"m-{mode}", config(postCreateCommand=SHOW, postAttachCommand=SHOW, **more))
    p = ws.d("up", folder)
    assert seen(p.stderr) == [MODES[mode]] * 2, p.stderr
    assert "warning" not in p.stderr
    assert seen(ws.d("exec", folder, "--", "sh", "-c", SHOW).stdout) == [MODES[mode]]
    # a later `up` of the running container: the same environment for postAttachCommand
    assert seen(ws.d("up", folder).stderr) == [MODES[mode]]


def test_remote_env_over_the_probed_env(ws):
    folder = ws.make("over", config(
        remoteEnv={"SHARED": "from-remoteEnv", "PATH": "${containerEnv:PATH}:/extra"},
        postCreateCommand='echo "seen: $PROBED $SHARED $PATH"'))
    want = ("seen: profile from-remoteEnv "
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/extra")
    assert seen(ws.d("up", folder).stderr) == [want]
    p = ws.d("exec", folder, "--", "sh", "-c", 'echo "seen: $PROBED $SHARED $PATH"')
    assert seen(p.stdout) == [want]


def test_path_keeps_the_container_entries_the_profile_dropped(ws):
    # /etc/profile sets PATH=/usr/local/bin:/usr/bin:/bin; the container's /opt/tools/bin is put
    # back in front, its sbin folders are not (vscode is not root), as the reference merges
    folder = ws.make("path", config(containerEnv={
        "PATH": "/opt/tools/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}))
    up(ws.d, folder)
    p = ws.d("exec", folder, "--", "sh", "-c", 'echo "$PROBED $PATH"')
    assert p.stdout == "profile /opt/tools/bin:/usr/local/bin:/usr/bin:/bin\n"


def reads(ws, folder):
    p = ws.d("exec", folder, "--", "sh", "-c", "cat /tmp/profile-reads 2>/dev/null | wc -l")
    return int(p.stdout)


def test_probe_runs_once_per_start_of_the_container(ws):
    folder = ws.make("once", config(postCreateCommand="true", postStartCommand="true",
                                    postAttachCommand=SHOW))
    up(ws.d, folder)
    assert reads(ws, folder) == 1
    # later `up`s, their postAttachCommand and `exec`s reuse what the probe found
    for _ in range(2):
        assert seen(ws.d("up", folder).stderr) == [MODES[None]]
        assert seen(ws.d("exec", folder, "--", "sh", "-c", SHOW).stdout) == [MODES[None]]
    assert reads(ws, folder) == 1
    # started again after `down`: probed again (the startup files may have changed)
    ws.d("down", folder)
    assert seen(ws.d("up", folder).stderr) == [MODES[None]]
    assert reads(ws, folder) == 2
    # a new container probes for itself
    assert seen(ws.d("up", "--remove-existing-container", folder).stderr) == [MODES[None]]
    assert reads(ws, folder) == 1


def test_hanging_profile_times_out_with_a_warning(ws):
    folder = ws.make("hang", {"image": ODD, "remoteUser": "vscode",
                              "postCreateCommand": 'echo "seen: [$ODD]"'})
    p = ws.d("up", folder)
    warnings = [line for line in p.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, p.stderr
    assert warnings[0].startswith("dcfs: warning: userEnvProbe (loginInteractiveShell) in "
                                  "container "), warnings
    assert "'/bin/sh -lic' did not finish within 10 s" in warnings[0]
    assert seen(p.stderr) == ["seen: []"]  # the commands ran, without the probe's env
    # nothing of the probe is left running in the container: only the keep-alive's sleep
    ps = ws.d("exec", folder, "--", "ps", "-o", "args").stdout
    assert "-lic" not in ps, ps
    assert [line.strip() for line in ps.splitlines()].count("sleep 1000") == 1, ps
    # the running container's next `up` does not wait again
    assert "warning" not in ws.d("up", folder).stderr
    assert "warning: userEnvProbe" in ws.d("logs", folder).stdout


def test_profile_that_prints_nothing_is_a_warning(ws):
    folder = ws.make("fail", {"image": ODD, "userEnvProbe": "loginShell",
                              "postCreateCommand": 'echo "seen: [$ODD]"'})
    p = ws.d("up", folder)
    assert ("dcfs: warning: userEnvProbe (loginShell) in container " in p.stderr and
            "'/bin/sh -lc' printed no environment; going on without the environment it probes"
            in p.stderr), p.stderr
    assert seen(p.stderr) == ["seen: []"]
    # the same image's profile in a folder it does not refuse: probed
    ok = ws.make("fine", {"image": ODD, "postCreateCommand": 'echo "seen: [$ODD]"'})
    assert seen(ws.d("up", ok).stderr) == ["seen: [reached]"]
