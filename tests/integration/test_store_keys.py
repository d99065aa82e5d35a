"""Blob keys (fs/layer/layer_writer.c): each kind of key (a small file's bytes, a large file's chunk list, a
sparse file's layout) hashes its own domain tag first, so a file crafted to equal another kind's
key input is not taken for that content; a key match is also checked by size; keys of catalogs
made before version 5 are retired; fsck compares each entry's size with its content's."""
import hashlib
import os
import struct

from conftest import sparse_tar

CHUNK = 1 << 20


def old_chunked_input(data: bytes) -> bytes:
    """What dcfs before version 5 hashed for a large file's key: its chunk list
    (offset, length, chunk hash each), then "dcfs-chunked\\0" and the size."""
    out = b""
    for off in range(0, len(data), CHUNK):
        piece = data[off:off + CHUNK]
        out += struct.pack("<QQ", off, len(piece)) + hashlib.sha256(piece).digest()
    return out + b"dcfs-chunked\0" + struct.pack("<Q", len(data))


def old_sparse_input(size: int, regions: list) -> bytes:
    """The same for a small file with holes: "dcfs-sparse\\0", size, layout, data hash."""
    out = b"dcfs-sparse\0" + struct.pack("<Q", size)
    for off, data in regions:
        out += struct.pack("<QQ", off, len(data))
    return out + hashlib.sha256(b"".join(d for _, d in regions)).digest()


def small_key(data: bytes) -> bytes:
    """A small file's key since version 5."""
    return hashlib.sha256(b"dcfs-blob-v2\0small\0" + data).digest()


def one_sparse_tar(path, name, size, regions):
    """A PAX tar holding one GNU 1.0 sparse member: `size` bytes, data only at `regions`."""
    return sparse_tar(path, [(name, size, regions)])


def test_small_file_equal_to_a_chunk_list_is_not_that_large_file(dcfs, store, tree):
    big = os.urandom(3 * CHUNK + CHUNK // 2)  # four chunks: a 213-byte chunk list
    crafted = old_chunked_input(big)
    assert len(crafted) == 213
    t = tree("crafted")
    t.file("innocent", crafted)
    dcfs("import", t.root, "crafted")
    t = tree("victim")
    t.file("big", big)
    dcfs("import", t.root, "victim")
    assert store.file_content("victim:latest", "big") == big
    assert store.file_content("crafted:latest", "innocent") == crafted
    dcfs("fsck")


def test_small_file_equal_to_a_sparse_layout_is_not_that_sparse_file(dcfs, store, tree, tmp_path):
    regions = [(4096, b"hello, sparse world\n")]
    crafted = old_sparse_input(10000, regions)
    t = tree("crafted")
    t.file("innocent", crafted)
    dcfs("import", t.root, "crafted")
    dcfs("import", one_sparse_tar(tmp_path / "sparse.tar", "sp", 10000, regions), "victim")
    want = bytearray(10000)
    want[4096:4096 + len(regions[0][1])] = regions[0][1]
    assert store.file_content("victim:latest", "sp") == bytes(want)
    dcfs("fsck")


def test_key_match_of_another_size_is_refused(dcfs, store, tree):
    """A stored blob whose key is that of content of another size is never reused."""
    t = tree("a")
    t.file("f", b"the stored content\n")
    dcfs("import", t.root, "a")
    other = b"other content, of another size\n"
    store.execute("UPDATE blobs SET hash = ?", (small_key(other),))
    before = store.counts()
    t = tree("b")
    t.file("g", other)
    p = dcfs("import", t.root, "b", check=1)
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dcfs: import: "), p.stderr
    assert "'g'" in lines[0] and "bytes" in lines[0], lines[0]
    assert dcfs.images() == ["a:latest"]
    assert store.counts() == before
    assert store.tmp_leftovers() == []


def test_version_4_keys_are_retired(dcfs, store, tree):
    """A version 4 blob whose old key equals a new key of other content of the same size (what
    a crafted file could do there) must not be reused once the catalog is migrated."""
    t = tree("a")
    t.file("f", b"AAAA stored before the upgrade!\n")
    dcfs("import", t.root, "a")
    other = b"BBBB imported after the upgrade\n"
    assert len(other) == len(b"AAAA stored before the upgrade!\n")
    store.execute("UPDATE blobs SET hash = ?", (small_key(other),))
    # back to version 4: without what later versions added (version 6: a prebuild's workspace
    # columns of snapshots; version 7: containers.variant; version 8: builds; version 9: containers' engine;
    # version 10: feature_layers)
    for sql in ("DROP TRIGGER snapshots_ws_ins", "DROP TRIGGER snapshots_ws_del",
                "ALTER TABLE snapshots DROP COLUMN workspace_tree",
                "ALTER TABLE snapshots DROP COLUMN workspace_layer",
                "ALTER TABLE containers DROP COLUMN variant", "DROP TABLE builds",
                "ALTER TABLE containers DROP COLUMN engine",
                "ALTER TABLE containers DROP COLUMN engine_host",
                "ALTER TABLE containers DROP COLUMN engine_id", "DROP TABLE feature_layers"):
        store.execute(sql)
    store.execute("PRAGMA user_version = 4")
    t = tree("b")
    t.file("g", other)
    dcfs("import", t.root, "b")
    assert store.scalar("PRAGMA user_version") == 10
    assert store.file_content("b:latest", "g") == other
    assert store.file_content("a:latest", "f") == b"AAAA stored before the upgrade!\n"
    keys = [bytes(r["hash"]) for r in store.query("SELECT hash FROM blobs ORDER BY id")]
    assert keys[0] == b"legacy-key" + b"%022d" % 1
    assert keys[1] == small_key(other)
    dcfs("fsck")


def test_fsck_reports_an_entry_whose_size_is_not_its_content(dcfs, store, tree):
    t = tree()
    t.file("etc/hostname", b"box\n")
    t.file("bin/tool", os.urandom(200_000))
    dcfs("import", t.root, "img")
    dcfs("fsck")
    layer = store.layer_of("img:latest")
    # what a collision made: an entry whose blob holds other bytes; the layer's size and the
    # sums moved with it (triggers), so only the entry disagrees with its content
    store.execute("UPDATE entries SET size = size + 7 WHERE path = 'bin/tool'")
    store.execute("UPDATE layers SET size = size + 7 WHERE id = ?", (layer,))
    p = dcfs("fsck", check=1)
    assert f"entry 'bin/tool' of layer {layer}: 200007 bytes, but its content has 200000" \
        in p.stdout, p.stdout
    assert "1 problems" in p.stdout, p.stdout
    p = dcfs("fsck", "--repair", check=1)  # the right content is unknown: it stays damaged
    assert "bin/tool" in p.stdout, p.stdout
