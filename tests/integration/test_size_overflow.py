"""Sizes the catalog cannot sum: a file or layer past 1 PiB (holes included) is refused at
import with nothing left behind, an import that would overflow a sum is refused, and fsck
reports a catalog whose sizes or sums overflow instead of taking the error for the end of
its rows."""
from conftest import sparse_tar

PIB = 1 << 50


def error_line(p):
    lines = p.stderr.splitlines()
    assert len(lines) == 1, f"expected one stderr line: {p.stderr!r}"
    assert lines[0].startswith("dcfs: import: "), lines[0]
    return lines[0]


def good_image(dcfs, tree):
    t = tree("good")
    t.file("etc/os-release", b"ID=test\n")
    t.file("data", bytes(range(256)) * 1000)
    dcfs("import", t.root, "good")


def assert_unchanged(dcfs, store, before, files):
    assert dcfs.images() == ["good:latest"]
    assert store.counts() == before
    assert sorted(store.chunk_files()) == files, "a refused import left chunk files"
    assert store.tmp_leftovers() == [], "a refused import left its staging folder"
    dcfs("fsck")


def test_sparse_entry_of_2_to_the_62_is_refused(dcfs, store, tree, tmp_path):
    good_image(dcfs, tree)
    before, files = store.counts(), sorted(store.chunk_files())
    tarball = sparse_tar(tmp_path / "huge.tar", [
        ("fine", 8192, [(0, b"new bytes\n" * 100)]),
        ("huge", 1 << 62, [(4096, b"tiny")])] + [
        (f"more{i}", 1 << 62, [(0, b"x")]) for i in range(3)])
    line = error_line(dcfs("import", tarball, "good", check=1))
    assert "'huge'" in line and str(1 << 62) in line, line
    assert_unchanged(dcfs, store, before, files)


def test_layer_past_a_pebibyte_is_refused(dcfs, store, tree, tmp_path):
    good_image(dcfs, tree)
    before, files = store.counts(), sorted(store.chunk_files())
    # four quarters fill the layer exactly; the fifth entry takes it past
    tarball = sparse_tar(tmp_path / "wide.tar", [
        (f"q{i}", PIB // 4, [(i * 4096, b"quarter %d\n" % i)]) for i in range(5)])
    line = error_line(dcfs("import", tarball, "wide", check=1))
    assert "'q4'" in line and str(PIB) in line, line
    assert_unchanged(dcfs, store, before, files)


def test_layer_of_exactly_a_pebibyte_is_kept(dcfs, store, tmp_path):
    tarball = sparse_tar(tmp_path / "full.tar", [
        (f"q{i}", PIB // 4, [(i * 4096, b"quarter %d\n" % i)]) for i in range(4)])
    dcfs("import", tarball, "full")
    assert store.scalar("SELECT size FROM layers") == PIB
    assert store.scalar("SELECT value FROM sums WHERE name = 'layer_bytes'") == PIB
    dcfs("fsck")


def test_import_that_would_overflow_a_sum_is_refused(dcfs, store, tree):
    good_image(dcfs, tree)
    store.execute("UPDATE sums SET value = ? WHERE name = 'blob_bytes'", ((1 << 63) - 100,))
    before = store.counts()
    t = tree("more")
    t.file("new", b"n" * 1000)
    line = error_line(dcfs("import", t.root, "more", check=1))
    assert "blob_bytes" in line and "overflow" in line, line
    assert store.counts() == before
    assert store.scalar("SELECT typeof(value) FROM sums WHERE name = 'blob_bytes'") == "integer"


def test_fsck_reports_sizes_whose_sum_overflows(dcfs, store, tree):
    t = tree()
    t.file("a", b"a" * 100)
    t.file("b", b"b" * 200)
    dcfs("import", t.root, "img")
    store.execute("UPDATE entries SET size = ? WHERE path IN ('a', 'b')", (1 << 62,))
    p = dcfs("fsck", check=False)
    assert p.returncode != 0, f"fsck passed a catalog whose sums overflow:\n{p.stdout}{p.stderr}"
    assert "entry 'a' of layer" in p.stdout and "out of range" in p.stdout, p.stdout
    assert "overflow" in p.stderr, p.stderr
    p = dcfs("fsck", "--repair", check=False)
    assert p.returncode != 0, f"fsck --repair passed:\n{p.stdout}{p.stderr}"
    assert "overflow" in p.stderr, p.stderr


def test_fsck_reports_a_sum_that_is_no_longer_an_integer(dcfs, store, tree):
    t = tree()
    t.file("a", b"a" * 100)
    dcfs("import", t.root, "img")
    # what an overflow in a trigger leaves: SQLite turns the integer into a float past 2^63
    store.execute("UPDATE sums SET value = value + 9.3e18 WHERE name = 'layer_bytes'")
    assert store.scalar("SELECT typeof(value) FROM sums WHERE name = 'layer_bytes'") == "real"
    p = dcfs("fsck", check=1)
    assert "sum layer_bytes" in p.stdout and "not an integer" in p.stdout, p.stdout
    dcfs("fsck", "--repair")
    assert store.scalar("SELECT typeof(value) FROM sums WHERE name = 'layer_bytes'") == "integer"
    dcfs("fsck")
