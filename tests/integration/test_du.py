"""dcfs du: its figures (kept as sums by triggers) against what is really there: the chunk files
on disk, the catalog's rows, and the trees that were imported."""
import hashlib
import random

from conftest import scan_tree

MIB = 1 << 20
ROWS = ("images", "snapshots", "containers", "volumes", "workspaces", "chunks")


def rnd(seed, n):
    return random.Random(seed).randbytes(n)


def txt(seed, n):
    r = random.Random(seed)
    return bytes(r.choice(b"abcdefgh \n") for _ in range(n))


def tree_a(t):
    t.file("shared/big.bin", rnd(1, 2 * MIB + 3))
    t.file("shared/small.txt", txt(2, 5000))
    for i in range(15):
        t.file(f"a/{i}", txt(10 + i, 700 + i * 300))
    t.file("a/large.txt", txt(3, 300_000))
    t.file("a/empty", b"")
    t.file("a/hl1", "hardlinked\n")
    t.hardlink("a/hl2", "a/hl1")
    t.symlink("a/sym", "hl1")
    return t


def tree_b(t):
    t.file("shared/big.bin", rnd(1, 2 * MIB + 3))   # same contents as in tree A
    t.file("shared/small.txt", txt(2, 5000))
    for i in range(10):
        t.file(f"b/{i}", rnd(50 + i, 20_000 + i))
    t.file("b/huge.bin", rnd(4, 3 * MIB))
    return t


def regular_bytes(root):
    """Bytes of a tree's regular files, hardlinks counted once."""
    return sum(e["size"] for e in scan_tree(root).values() if e["type"] == "f")


def distinct_contents(*roots):
    seen = {}
    for root in roots:
        for path, e in scan_tree(root).items():
            if e["type"] == "f" and e["size"] > 0:
                data = (root / path).read_bytes()
                seen[hashlib.sha256(data).digest()] = len(data)
    return sum(seen.values())


def disk_chunks(store):
    files = store.chunk_files()
    return {
        "total": len(files),
        "stored": sum(p.stat().st_size for p in files.values()),
        "plain": sum(len(store.read_chunk(h)) for h in files),
    }


def catalog_figures(store):
    """The du figures recomputed from the rows (not from the sums table)."""
    q = store.scalar
    return {
        "images": q("SELECT count(*) FROM images WHERE kind = 'image'"),
        "layers_in_use": q("SELECT coalesce(sum(size), 0) FROM layers WHERE id IN"
                           " (SELECT layer_id FROM image_layers)"),
        "logical": q("SELECT coalesce(sum(l.size), 0) FROM image_layers il"
                     " JOIN layers l ON l.id = il.layer_id"),
        "unique": q("SELECT coalesce(sum(size), 0) FROM blobs"),
        "chunks": q("SELECT count(*) FROM chunks"),
        "chunks_active": q("SELECT count(DISTINCT chunk_id) FROM extents"),
        "chunk_stored": q("SELECT coalesce(sum(stored_size), 0) FROM chunks"),
        "chunk_plain": q("SELECT coalesce(sum(plain_size), 0) FROM chunks"),
        "chunk_unref_stored": q("SELECT coalesce(sum(stored_size), 0) FROM chunks WHERE id NOT IN"
                                " (SELECT chunk_id FROM extents)"),
        "layer_sizes_from_entries": q(
            "SELECT coalesce(sum(e.size), 0) FROM entries e WHERE e.type = 'f' AND e.layer_id IN"
            " (SELECT layer_id FROM image_layers)"),
    }


def check_du_consistent(dcfs, store):
    du = dcfs.json("du", "--json")
    assert set(ROWS) <= set(du), du
    disk = disk_chunks(store)
    cat = catalog_figures(store)
    ch = du["chunks"]
    assert ch["total"] == disk["total"] == cat["chunks"], (ch, disk, cat)
    assert ch["size"] == ch["stored"] == disk["stored"] == cat["chunk_stored"], (ch, disk, cat)
    assert ch["plain"] == disk["plain"] == cat["chunk_plain"], (ch, disk, cat)
    assert ch["active"] == cat["chunks_active"], (ch, cat)
    assert ch["reclaimable"] == cat["chunk_unref_stored"], (ch, cat)
    assert ch["logical"] == cat["logical"], (ch, cat)
    assert ch["unique"] == cat["unique"], (ch, cat)
    im = du["images"]
    assert im["total"] == cat["images"]
    assert im["active"] == 0  # no containers in this milestone
    assert im["size"] == cat["layers_in_use"] == cat["layer_sizes_from_entries"], (im, cat)
    assert im["reclaimable"] == im["size"]
    for row in ("snapshots", "containers", "volumes", "workspaces"):
        assert du[row] == {"total": 0, "active": 0, "size": 0, "reclaimable": 0}, (row, du[row])
    return du


def test_du_of_an_empty_store(dcfs, store):
    du = dcfs.json("du", "--json")
    for row in ROWS:
        for k in ("total", "active", "size", "reclaimable"):
            assert du[row][k] == 0, (row, du[row])
    for k in ("plain", "stored", "logical", "unique"):
        assert du["chunks"][k] == 0


def test_du_matches_disk_catalog_and_trees(dcfs, store, tree):
    a, b = tree_a(tree("a")), tree_b(tree("b"))
    dcfs("import", a.root, "a")
    dcfs("import", b.root, "b")
    dcfs("import", a.root, "a2")  # the same layer as a
    du = check_du_consistent(dcfs, store)
    size_a, size_b = regular_bytes(a.root), regular_bytes(b.root)
    assert du["images"]["total"] == 3
    assert du["images"]["size"] == size_a + size_b  # the shared layer counts once
    assert du["chunks"]["logical"] == 2 * size_a + size_b  # what the images hold
    assert du["chunks"]["unique"] == distinct_contents(a.root, b.root)
    assert du["chunks"]["reclaimable"] == 0 and du["chunks"]["active"] == du["chunks"]["total"]
    dcfs("fsck")


def image_list(dcfs):
    du = dcfs.json("du", "-v", "--json")
    return {im["ref"]: im for im in du["imageList"]}


def test_du_verbose_shared_and_unique_sizes(dcfs, store, tree):
    a, b = tree_a(tree("a")), tree_b(tree("b"))
    size_a, size_b = regular_bytes(a.root), regular_bytes(b.root)
    dcfs("import", a.root, "one")
    dcfs("import", a.root, "two")   # shares its one layer with `one`
    dcfs("import", b.root, "other")  # shares contents with a, but not a layer
    imgs = image_list(dcfs)
    assert set(imgs) == {"one:latest", "two:latest", "other:latest"}
    for ref in ("one:latest", "two:latest"):
        assert imgs[ref]["kind"] == "image"
        assert (imgs[ref]["size"], imgs[ref]["sharedSize"], imgs[ref]["uniqueSize"]) == \
            (size_a, size_a, 0), imgs[ref]
    o = imgs["other:latest"]
    assert (o["size"], o["sharedSize"], o["uniqueSize"]) == (size_b, 0, size_b), o

    # Once `one` is gone, `two` holds its layer alone.
    dcfs("rmi", "one")
    imgs = image_list(dcfs)
    assert set(imgs) == {"two:latest", "other:latest"}
    t = imgs["two:latest"]
    assert (t["size"], t["sharedSize"], t["uniqueSize"]) == (size_a, 0, size_a), t
    check_du_consistent(dcfs, store)


def test_du_follows_rmi(dcfs, store, tree):
    a, b = tree_a(tree("a")), tree_b(tree("b"))
    dcfs("import", a.root, "a")
    dcfs("import", b.root, "b")
    before = check_du_consistent(dcfs, store)

    out = dcfs("rmi", "a").stdout
    assert "Untagged: a:latest" in out
    after = check_du_consistent(dcfs, store)
    assert after["images"]["total"] == 1
    assert after["images"]["size"] == regular_bytes(b.root)
    assert after["chunks"]["logical"] == regular_bytes(b.root)
    assert after["chunks"]["unique"] == distinct_contents(b.root)
    # a's own chunks are gone from disk; what b shares with it stays.
    assert 0 < after["chunks"]["stored"] < before["chunks"]["stored"]
    assert after["chunks"]["total"] < before["chunks"]["total"]
    assert store.file_content("b:latest", "shared/big.bin") == (b.root / "shared/big.bin").read_bytes()

    dcfs("rmi", "b:latest")
    empty = check_du_consistent(dcfs, store)
    assert empty["chunks"]["total"] == 0 and empty["chunks"]["stored"] == 0
    assert empty["images"]["size"] == 0 and empty["chunks"]["logical"] == 0
    assert store.chunk_files() == {}
    assert store.counts() == {"chunks": 0, "blobs": 0, "extents": 0, "layers": 0, "entries": 0,
                              "images": 0}
    dcfs("fsck")


def test_du_table_shows_exact_bytes_on_a_pipe(dcfs, store, tree):
    a = tree_a(tree("a"))
    dcfs("import", a.root, "a")
    du = dcfs.json("du", "-v", "--json")
    out = dcfs("du", "-v").stdout
    lines = out.splitlines()
    assert lines[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    rows = {}
    for line in lines[1:]:
        if not line.strip():
            break
        cells = line.split()
        label = " ".join(cells[:2]) if cells[0] == "Chunk" else cells[0]
        rows[label] = cells[2:] if cells[0] == "Chunk" else cells[1:]
    im = du["images"]
    assert rows["Images"][:3] == [str(im["total"]), str(im["active"]), str(im["size"])], rows
    assert rows["Images"][3] == str(im["reclaimable"])
    ch = du["chunks"]
    assert rows["Chunk cache"][:3] == [str(ch["total"]), str(ch["active"]), str(ch["size"])], rows
    summary = [l for l in lines if l.startswith("Chunk cache:")]
    assert summary, out
    assert f"{ch['plain']} plain in {ch['stored']} stored" in summary[0], summary[0]
    assert f"{ch['logical']} in images, {ch['unique']} distinct" in summary[0], summary[0]
    # -v: the per-image table with exact sizes
    size = regular_bytes(a.root)
    img_rows = [l.split() for l in lines if l.startswith("a:latest")]
    assert img_rows == [["a:latest", "image", str(size), "0", str(size)]], out


def test_du_images_size_after_a_tag_is_replaced(dcfs, store, tree):
    """Importing to an existing REF leaves the old layer unreferenced until prune. `du`'s Images
    SIZE is documented as 'bytes of the layers images hold', so it must not count it."""
    a, b = tree_a(tree("a")), tree_b(tree("b"))
    dcfs("import", a.root, "app")
    dcfs("import", b.root, "app")  # replaces app:latest
    assert dcfs.images() == ["app:latest"]
    du = dcfs.json("du", "--json")
    held = catalog_figures(store)["layers_in_use"]
    assert held == regular_bytes(b.root)
    assert du["images"]["size"] == held, (
        f"BUG (fs/store/du.c dcfs_du_read): Images SIZE is {du['images']['size']} but the layers images "
        f"hold are {held} bytes: it is computed from sums.layer_bytes, which also counts layers "
        "no image references (layer_bytes - layer_unref_bytes would be right)")
    # prune reclaims the old layer, after which everything agrees again.
    dcfs("prune")
    check_du_consistent(dcfs, store)
