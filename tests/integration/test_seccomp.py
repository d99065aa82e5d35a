"""Seccomp and capabilities in `dcfs up`: Docker's default seccomp profile is applied (a
syscall it refuses fails in the container), `seccomp=unconfined` and `privileged` turn it off,
`seccomp=PATH` applies that profile and a missing or bad one is refused; securityOpt and
runArgs' --security-opt accept and refuse the same values; `capAdd`/`--cap-add ALL` gives every
capability, `--cap-drop` removes them, and an unknown capability is refused by name.

Same fixtures as test_up.py (a busybox image imported once per module, containers removed in
teardown); a tiny static C program (built with cc -static) calls the syscalls. Needs root,
/dev/fuse and runc.
"""
import json
import os
import shutil
import subprocess

import pytest

from test_up import IMAGE, env, pytestmark, up, ws  # noqa: F401 (fixtures and marks)

CONFIG = ".devcontainer/devcontainer.json"

# Prints "ok 0" or "errno N" for the syscall named by its argument.
SYS_C = r"""
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	long r = -1;
	errno = EINVAL;
	if (argc > 1 && !strcmp(argv[1], "add_key"))
		r = syscall(SYS_add_key, "user", "dcfs-test", "x", 1, -2 /* the process keyring */);
	printf("%s %d\n", r < 0 ? "errno" : "ok", r < 0 ? errno : 0);
	return 0;
}
"""


@pytest.fixture(scope="module")
def sys_helper(env):
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("needs cc")
    _, _, base = env
    src, exe = base / "sys.c", base / "sys"
    src.write_text(SYS_C)
    subprocess.run([cc, "-static", "-O", "-o", str(exe), str(src)], check=True)
    return exe


def make(ws, name, config, helper=None):
    folder = ws.make(name, {"image": IMAGE, **config})
    if helper:
        shutil.copy(helper, folder / "sys")
    return folder


def bundle(ws, cid):
    return json.loads((ws.store.path / "containers" / cid / "bundle" / "config.json").read_text())


def status(ws, folder, field):
    """A field of /proc/self/status of a process run in the container."""
    p = ws.d("exec", folder, "--", "grep", f"^{field}:", "/proc/self/status")
    return p.stdout.split()[1]


def add_key(ws, folder):
    return ws.d("exec", folder, "--", "./sys", "add_key").stdout.strip()


def refused(ws, name, config, msg):
    folder = make(ws, name, config)
    p = ws.d("up", folder, check=1)
    assert p.stderr.strip() == "dcfs: up: " + msg
    assert all(c["folder"] != str(folder) for c in ws.d.json("ls", "--json"))


def host_status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return line.split()[1]


def test_default_profile(ws, sys_helper):
    folder = make(ws, "dflt", {}, sys_helper)
    cid = up(ws.d, folder)["containerId"]
    sec = bundle(ws, cid)["linux"]["seccomp"]
    assert sec["defaultAction"] == "SCMP_ACT_ERRNO"
    if os.uname().machine == "x86_64":
        assert sec["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    # every process in the container is filtered, the first one and those exec'd
    assert status(ws, folder, "Seccomp") == "2"
    p = ws.d("exec", folder, "--", "grep", "^Seccomp:", "/proc/1/status")
    assert p.stdout.split()[1] == "2"
    # add_key is not in Docker's profile: the default action refuses it (EPERM, 1)
    assert add_key(ws, folder) == "errno 1"
    # the rest works
    assert ws.d("exec", folder, "--", "sh", "-c", "mkdir /tmp/d && echo made").stdout == "made\n"


@pytest.mark.parametrize("how", ["securityOpt", "runArgs"])
def test_unconfined(ws, sys_helper, how):
    config = ({"securityOpt": ["seccomp=unconfined"]} if how == "securityOpt"
              else {"runArgs": ["--security-opt", "seccomp:unconfined"]})
    folder = make(ws, "unconf", config, sys_helper)
    cid = up(ws.d, folder)["containerId"]
    assert "seccomp" not in bundle(ws, cid)["linux"]
    assert status(ws, folder, "Seccomp") == "0"
    assert add_key(ws, folder) == "ok 0"


@pytest.mark.parametrize("how", ["securityOpt", "runArgs"])
def test_custom_profile(ws, sys_helper, how):
    profile = ws.root / "profile.json"
    profile.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                     {"names": ["add_key"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                      "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}))
    config = ({"securityOpt": [f"seccomp={profile}"]} if how == "securityOpt"
              else {"runArgs": [f"--security-opt=seccomp:{profile}"]})
    folder = make(ws, "custom", config, sys_helper)
    up(ws.d, folder)
    assert status(ws, folder, "Seccomp") == "2"
    p = ws.d("exec", folder, "--", "sh", "-c", "mkdir /tmp/d 2>&1 || echo refused")
    assert "Permission denied" in p.stdout and p.stdout.endswith("refused\n")
    # the add_key rule is for containers with CAP_SYS_ADMIN: not this one
    assert add_key(ws, folder) == "ok 0"


def test_custom_profile_follows_capabilities(ws, sys_helper):
    profile = ws.root / "profile.json"
    profile.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["add_key"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                      "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}))
    folder = make(ws, "capprof", {"securityOpt": [f"seccomp={profile}"], "capAdd": ["sys_admin"]},
                  sys_helper)
    up(ws.d, folder)
    assert add_key(ws, folder) == "errno 1"


def test_bad_profiles_refused(ws):
    missing = ws.root / "missing.json"
    refused(ws, "miss", {"securityOpt": [f"seccomp={missing}"]},
            f"{CONFIG}: securityOpt: seccomp profile: cannot open '{missing}': "
            "No such file or directory")
    bad = ws.root / "bad.json"
    bad.write_text('{"defaultAction": }')
    refused(ws, "bad", {"runArgs": ["--security-opt", f"seccomp={bad}"]},
            f"{CONFIG}: securityOpt: seccomp profile: {bad}:1:19: expected a value "
            "(string, number, object, array, true, false or null)")
    wrong = ws.root / "wrong.json"
    wrong.write_text('{"syscalls": []}')
    refused(ws, "wrong", {"securityOpt": [f"seccomp={wrong}"]},
            f"{CONFIG}: securityOpt: seccomp profile '{wrong}': expected \"defaultAction\"")
    # a privileged container has no filter, but the profile it names is still read (as docker)
    refused(ws, "privmiss", {"privileged": True, "securityOpt": [f"seccomp={missing}"]},
            f"{CONFIG}: securityOpt: seccomp profile: cannot open '{missing}': "
            "No such file or directory")


def test_unsupported_security_opts_refused(ws):
    for i, opt in enumerate(["apparmor=unconfined", "label=disable", "no-new-privileges=maybe",
                             "seccomp="]):
        refused(ws, f"cfg{i}", {"securityOpt": [opt]},
                f"{CONFIG}: securityOpt: unsupported security option '{opt}'")
        refused(ws, f"ra{i}", {"runArgs": ["--security-opt", opt]},
                f"runArgs: --security-opt in {CONFIG}: unsupported security option '{opt}'")


def test_privileged_has_no_seccomp(ws, sys_helper):
    for name, config in [("priv", {"privileged": True}), ("rpriv", {"runArgs": ["--privileged"]})]:
        folder = make(ws, name, config, sys_helper)
        cid = up(ws.d, folder)["containerId"]
        assert "seccomp" not in bundle(ws, cid)["linux"]
        assert status(ws, folder, "Seccomp") == "0"
        assert add_key(ws, folder) == "ok 0"


@pytest.mark.parametrize("config", [{"capAdd": ["ALL"]}, {"runArgs": ["--cap-add=all"]}])
def test_cap_add_all(ws, config):
    folder = make(ws, "all", config)
    up(ws.d, folder)
    # every capability this (root) process may hold; the filter stays, as with docker
    assert status(ws, folder, "CapEff") == host_status("CapBnd")
    assert status(ws, folder, "Seccomp") == "2"


def test_cap_drop(ws):
    folder = make(ws, "drop", {"runArgs": ["--cap-drop=ALL", "--cap-add", "chown"]})
    up(ws.d, folder)
    assert int(status(ws, folder, "CapEff"), 16) == 1  # CAP_CHOWN alone
    folder = make(ws, "drop2", {"capAdd": ["SYS_PTRACE"], "runArgs": ["--cap-drop", "NET_RAW"]})
    up(ws.d, folder)
    eff = int(status(ws, folder, "CapEff"), 16)
    assert eff & (1 << 19) and not eff & (1 << 13)  # CAP_SYS_PTRACE, not CAP_NET_RAW


def test_unknown_capability_refused(ws):
    refused(ws, "ucfg", {"capAdd": ["SYS_PTRACE", "SYS_BOGUS"]},
            f"{CONFIG}: capAdd: unknown capability 'SYS_BOGUS'")
    refused(ws, "uadd", {"runArgs": ["--cap-add", "NOPE"]},
            f"runArgs: unknown capability '--cap-add NOPE' in {CONFIG}")
    refused(ws, "udrop", {"runArgs": ["--cap-drop=cap_nope"]},
            f"runArgs: unknown capability '--cap-drop cap_nope' in {CONFIG}")
