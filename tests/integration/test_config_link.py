"""$HOME/config and the workspace's .devcontainer/config: the link is made after
postCreateCommand when that did not make it, the folder is never created, and the common recipe
`ln -sf $PWD/.devcontainer/config $HOME/config` works unchanged. Same fixtures as test_up.py."""
import os

from test_up import IMAGE, env, pytestmark, up, ws  # noqa: F401 (fixtures and marks)

RECIPE = "ln -sf $PWD/.devcontainer/config $HOME/config"


def config_dir(folder):
    d = folder / ".devcontainer" / "config"
    d.mkdir()
    os.chown(d, 1000, 1000)
    (d / "settings").write_text("mine\n")
    return d


def test_the_recipe_leaves_no_link_in_the_repository(ws):
    folder = ws.make("recipe", {"image": IMAGE, "remoteUser": "vscode", "postCreateCommand": RECIPE})
    cfg = config_dir(folder)
    up(ws.d, folder)
    assert sorted(p.name for p in cfg.iterdir()) == ["settings"]  # no config/config -> itself
    p = ws.d("exec", folder, "--", "sh", "-c", 'readlink "$HOME/config"; cat "$HOME/config/settings"')
    assert p.stdout == "/workspaces/recipe/.devcontainer/config\nmine\n"
    # a restart runs no postCreateCommand and keeps the link
    ws.d("down", folder)
    up(ws.d, folder)
    assert ws.d("exec", folder, "--", "cat", "/home/vscode/config/settings").stdout == "mine\n"
    assert sorted(p.name for p in cfg.iterdir()) == ["settings"]


def test_no_config_folder_is_made_in_a_workspace_without_one(ws):
    folder = ws.make("noconfig", {"image": IMAGE, "remoteUser": "vscode"})
    up(ws.d, folder)
    assert sorted(p.name for p in (folder / ".devcontainer").iterdir()) == ["devcontainer.json"]
    # the link is there, dangling until the user makes the folder
    p = ws.d("exec", folder, "--", "sh", "-c",
             'readlink "$HOME/config"; test -e "$HOME/config" || echo dangling; '
             'mkdir /workspaces/noconfig/.devcontainer/config; test -d "$HOME/config" && echo now')
    assert p.stdout == "/workspaces/noconfig/.devcontainer/config\ndangling\nnow\n"


def test_link_is_made_after_post_create(ws):
    folder = ws.make("order", {"image": IMAGE, "remoteUser": "vscode",
                               "postCreateCommand": 'test -e "$HOME/config" && echo early > /tmp/seen || true'})
    config_dir(folder)
    up(ws.d, folder)
    p = ws.d("exec", folder, "--", "sh", "-c", 'cat /tmp/seen 2>/dev/null; readlink "$HOME/config"')
    assert p.stdout == "/workspaces/order/.devcontainer/config\n"


def test_up_says_when_the_configuration_changed_since_the_container_was_made(ws):
    import json
    folder = ws.make("changed", {"image": IMAGE, "containerEnv": {"A": "1"}})
    up(ws.d, folder)
    assert "note:" not in ws.d("up", folder).stdout
    f = folder / ".devcontainer" / "devcontainer.json"
    f.write_text(json.dumps({"image": IMAGE, "containerEnv": {"A": "2"}}))
    p = ws.d("up", folder)
    assert f"was made from an earlier {f}; 'dcfs rebuild {folder}' applies the change" in p.stdout
    ws.d("rebuild", folder)
    assert "note:" not in ws.d("up", folder).stdout
    assert ws.d("exec", folder, "--", "sh", "-c", "echo $A").stdout == "2\n"
