"""`--config` variants of one folder get separate containers: the identity of a container is
its folder and configuration file, the folder alone for the default configuration the search
finds (so existing containers keep theirs). down, rm, exec, logs and snapshot take --config to
pick one; without it and with several, they list them instead of guessing. `dcfs ls` shows
the configuration file. Same fixtures as test_up.py; needs root, /dev/fuse and runc."""
import json

from test_up import IMAGE, env, pytestmark, runc_status, up, ws  # noqa: F401 (fixtures and marks)


def variant(folder, name, who):
    f = folder / f"{name}.json"
    f.write_text(json.dumps({"image": IMAGE, "containerEnv": {"WHO": who},
                             "postCreateCommand": f"echo made-{who}"}))
    return f


def up_config(d, folder, config, check=True):
    p = d("up", "--json", "--config", config, folder, check=check)
    return json.loads(p.stdout.strip().splitlines()[-1]) if p.returncode == 0 else p


def who(d, folder, config=None):
    args = ["exec"] + (["--config", config] if config else []) + [folder, "--", "sh", "-c",
                                                                  "echo $WHO"]
    return d(*args).stdout.strip()


def test_two_variants_each_with_its_own_container(ws):
    folder = ws.make("multi", {"image": IMAGE, "containerEnv": {"WHO": "default"}})
    a, b = variant(folder, "a", "a"), variant(folder, "b", "b")
    ca, cb = up_config(ws.d, folder, a), up_config(ws.d, folder, b)
    try:
        assert ca["containerId"] != cb["containerId"]
        assert runc_status(ws.store, ca["containerId"]) == "running"
        assert runc_status(ws.store, cb["containerId"]) == "running"
        # each its own lifecycle: both ran their postCreateCommand once
        assert "made-a" in ws.d("logs", "--config", a, folder).stdout
        assert "made-b" in ws.d("logs", "--config", b, folder).stdout
        assert "made-a" not in ws.d("logs", "--config", b, folder).stdout
        assert who(ws.d, folder, a) == "a" and who(ws.d, folder, b) == "b"
        # up again finds each one running, not the other
        assert up_config(ws.d, folder, a)["containerId"] == ca["containerId"]
        # ls shows the configuration file (relative to the folder)
        rows = {c["id"]: c for c in ws.d.json("ls", "--json")}
        assert rows[ca["containerId"]]["configFile"] == str(a)
        assert rows[cb["containerId"]]["configFile"] == str(b)
        table = ws.d("ls").stdout.splitlines()
        assert table[0].split()[-1] == "CONFIG"
        assert any(line.split()[-1] == "a.json" for line in table[1:]), table
        # without --config, two containers: no guessing, both named
        for cmd in (["exec", folder, "--", "true"], ["down", folder], ["logs", folder],
                    ["rm", "-f", folder]):
            p = ws.d(*cmd, check=1)
            assert "several dev containers" in p.stderr, p.stderr
            assert f"--config {a}" in p.stderr and f"--config {b}" in p.stderr
            assert len(p.stderr.splitlines()) == 1
        assert runc_status(ws.store, ca["containerId"]) == "running"
        # down of one leaves the other running
        ws.d("down", "--config", a, folder)
        assert runc_status(ws.store, ca["containerId"]) is None
        assert runc_status(ws.store, cb["containerId"]) == "running"
        assert who(ws.d, folder, b) == "b"
        # and it comes back as itself
        again = up_config(ws.d, folder, a)
        assert again["containerId"] == ca["containerId"]
        assert who(ws.d, folder, a) == "a"
        # rm of one leaves the other; then the folder's only container needs no --config
        ws.d("rm", "-f", "--config", a, folder)
        assert ca["containerId"] not in {c["id"] for c in ws.d.json("ls", "--json")}
        assert who(ws.d, folder) == "b"
    finally:
        for c in (a, b):
            ws.d("rm", "-f", "--config", c, folder, check=False)


def test_default_configuration_keeps_the_folder_identity(ws):
    folder = ws.make("dflt", {"image": IMAGE, "containerEnv": {"WHO": "default"}})
    plain = up(ws.d, folder)
    default = folder / ".devcontainer" / "devcontainer.json"
    # --config naming the file the search finds is the same container
    assert up_config(ws.d, folder, default)["containerId"] == plain["containerId"]
    other = variant(folder, "other", "other")
    try:
        oc = up_config(ws.d, folder, other)
        assert oc["containerId"] != plain["containerId"]
        # the default one is picked by its file, the variant by its own
        assert who(ws.d, folder, default) == "default"
        assert who(ws.d, folder, other) == "other"
        p = ws.d("down", folder, check=1)
        assert "the default" in p.stderr
        ws.d("down", "--config", default, folder)
        assert runc_status(ws.store, plain["containerId"]) is None
        assert runc_status(ws.store, oc["containerId"]) == "running"
        # a --config that has no container says which
        p = ws.d("exec", "--config", folder / "nope.json", folder, "--", "true", check=1)
        assert "no dev container for" in p.stderr and "nope.json" in p.stderr
    finally:
        ws.d("rm", "-f", "--config", other, folder, check=False)



def test_full_rebuild_of_one_variant_keeps_the_other(ws):
    folder = ws.make("rebuilt", {"image": IMAGE})
    a, b = variant(folder, "a", "a"), variant(folder, "b", "b")
    ca, cb = up_config(ws.d, folder, a), up_config(ws.d, folder, b)
    try:
        p = ws.d("rebuild", "--full", "--yes", "--json", "--config", a, folder)
        names = {c["id"]: c["name"] for c in ws.d.json("ls", "--json")}
        assert cb["containerId"] in names
        assert runc_status(ws.store, cb["containerId"]) == "running"
        assert ca["containerId"] not in names  # a's was the one rebuilt
        assert who(ws.d, folder, a) == "a" and who(ws.d, folder, b) == "b"
        assert names[cb["containerId"]] not in p.stderr
    finally:
        for c in (a, b):
            ws.d("rm", "-f", "--config", c, folder, check=False)
