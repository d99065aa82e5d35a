"""The command line itself: help for each command, no abbreviated options, root where needed,
and a store that does not exist yet."""
import subprocess

import pytest

COMMANDS = ["import", "pull", "push", "images", "rmi", "du", "prune", "fsck", "mount", "umount",
            "read-configuration", "up", "prebuild", "rebuild", "snapshot", "snapshots", "exec",
            "ls", "logs", "down", "rm"]


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help(dcfs, cmd):
    for args in ([cmd, "--help"], [cmd, "-h"], ["help", cmd]):
        p = dcfs(*args)
        assert p.stdout.startswith(f"usage: dcfs {cmd}"), (args, p.stdout)
        assert p.stderr == ""


def test_help_of_an_unknown_command(dcfs):
    p = dcfs("help", "nope", check=2)
    assert "unknown command 'nope'" in p.stderr


def test_help_after_double_dash_belongs_to_the_command(dcfs, tmp_path):
    # `exec FOLDER -- sh -h` passes -h to sh: no help printed, the missing container is reported
    p = dcfs("exec", tmp_path, "--", "sh", "-h", check=1)
    assert "usage:" not in p.stdout and "no dev container" in p.stderr


def test_destructive_flags_are_not_abbreviated(dcfs, tmp_path, store):
    (tmp_path / "proj").mkdir()
    p = dcfs("rebuild", "--ful", "--yes", tmp_path / "proj", check=2)
    assert "unrecognized option '--ful' (did you mean '--full'?)" in p.stderr
    p = dcfs("rm", "--forc", tmp_path / "proj", check=2)
    assert "did you mean '--force'?" in p.stderr
    p = dcfs("fsck", "--rep", check=2)
    assert "did you mean '--repair'?" in p.stderr
    # spelled out, with = or a separate value, they still work
    dcfs("images", "--json")
    p = dcfs("--sto", store.path, "images", store=False, check=2)
    assert "did you mean '--store'?" in p.stderr
    dcfs(f"--store={store.path}", "images", store=False)
    # an option's value that starts with "--" is the value, not a mistyped option
    p = dcfs("read-configuration", "--config", "--x", tmp_path, check=1)
    assert "did you mean" not in p.stderr and "'--x'" in p.stderr, p.stderr
    p = dcfs("read-configuration", "--conf=x", tmp_path, check=2)
    assert "did you mean '--config'?" in p.stderr


def test_container_commands_need_root(dcfs, tmp_path):
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    folder = tmp_path / "proj"
    folder.mkdir(mode=0o777)
    for cmd in ("up", "exec", "down", "rm", "rebuild", "prebuild", "snapshot"):
        p = subprocess.run(as_nobody + [str(dcfs.binary), "--store", str(tmp_path / "s"), cmd,
                                        str(folder)], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 1, (cmd, p)
        assert p.stderr.startswith(f"dcfs: {cmd}: needs root"), (cmd, p.stderr)
        assert len(p.stderr.splitlines()) == 1
    assert not (tmp_path / "s").exists()  # nothing was created on the way


def test_listing_a_store_that_does_not_exist(dcfs, tmp_path):
    missing = tmp_path / "no-store"
    for cmd in ("ls", "images", "snapshots", "du"):
        p = dcfs(cmd, store=missing)
        assert p.stderr == "", (cmd, p.stderr)
    assert not missing.exists()


def test_man_page_and_completion_come_from_the_command_table(dcfs, tmp_path):
    man = dcfs("help", "--man").stdout
    assert man.startswith(".TH DCFS 1")
    for cmd in COMMANDS:
        assert f".B dcfs {cmd.replace('-', chr(92) + '-')}" in man, cmd
    script = tmp_path / "dcfs.bash"
    script.write_text(dcfs("completion", "bash").stdout)
    def complete(*words):
        p = subprocess.run(["bash", "-c", f"source {script}; COMP_WORDS=({' '.join(words)}); "
                            f"COMP_CWORD={len(words) - 1}; _dcfs; echo \"${{COMPREPLY[@]}}\""],
                           capture_output=True, text=True, check=True)
        return p.stdout.split()
    assert complete("dcfs", "reb") == ["rebuild"]
    assert complete("dcfs", "--store", "/x", "rebuild", "--f") == ["--full"]
    assert "--include-merged-configuration" in complete("dcfs", "read-configuration", "--")
    dcfs("completion", "fish", check=2)
