"""dcfs du counts what a running container wrote without waiting for `down`: its upper folder
is measured when du runs (the catalog has it as of the last up or down); everything else is
the catalog's, as before. Same fixtures as test_up.py; needs root, /dev/fuse and runc."""
import os
import stat

from test_up import IMAGE, env, pytestmark, up, ws  # noqa: F401 (fixtures and marks)

MB = 1 << 20


def upper_bytes(store, cid):
    """What du's walk counts: the sizes of the regular files under the upper folder."""
    total = 0
    for dirpath, _, files in os.walk(store.path / "containers" / cid / "upper"):
        for f in files:
            st = os.lstat(os.path.join(dirpath, f))
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


def containers_row(d):
    return d.json("du", "--json")["containers"]


def verbose_size(d, name):
    lines = d("du", "-v").stdout.splitlines()
    start = lines.index("Containers space usage:")
    for line in lines[start + 2:]:
        if not line.strip():
            break
        cells = line.split()
        if cells[0] == name:
            return int(cells[3])
    raise AssertionError(f"{name} not in du -v: {lines}")


def test_du_counts_a_running_containers_writes(ws):
    running = ws.make("busy", {"image": IMAGE})
    idle = ws.make("idle", {"image": IMAGE})
    cid = up(ws.d, running)["containerId"]
    idle_id = up(ws.d, idle)["containerId"]
    ws.d("exec", idle, "--", "sh", "-c", "head -c 3000 /dev/zero > /idle-file")
    ws.d("down", idle)
    idle_bytes = ws.store.scalar("SELECT upper_bytes FROM containers WHERE id = ?", (idle_id,))
    assert idle_bytes >= 3000
    name = next(c["name"] for c in ws.d.json("ls", "--json") if c["id"] == cid)
    before = containers_row(ws.d)["size"]
    assert before == upper_bytes(ws.store, cid) + idle_bytes

    ws.d("exec", running, "--", "sh", "-c", "head -c 20971520 /dev/zero > /tmp/twenty")
    # the catalog still has the figure of the last up
    recorded = ws.store.scalar("SELECT upper_bytes FROM containers WHERE id = ?", (cid,))
    assert recorded < 20 * MB
    row = containers_row(ws.d)
    now = upper_bytes(ws.store, cid)
    assert now >= 20 * MB
    assert row["size"] == now + idle_bytes
    assert row["reclaimable"] == idle_bytes  # the stopped one's writes, as before
    assert verbose_size(ws.d, name) == now
    # down records the same figure; du does not change its answer
    ws.d("down", running)
    assert ws.store.scalar("SELECT upper_bytes FROM containers WHERE id = ?", (cid,)) == now
    assert containers_row(ws.d)["size"] == now + idle_bytes
