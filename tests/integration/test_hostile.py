"""Archives that try to leave the image root, broken inputs and wrong usage: each is refused
with exit 1 and one `dcfs: import: ...` line naming the culprit, and leaves the store clean."""
import gzip
import tarfile

import pytest

from conftest import build_tar

GNU = tarfile.GNU_FORMAT
PAX = tarfile.PAX_FORMAT


LONG = "d" * 120

# (id, members, format, text the error line must contain)
HOSTILE = [
    ("dotdot", [("ok", "f", b"fine\n"), ("../etc/passwd", "f", b"pwned\n")], GNU, "../etc/passwd"),
    ("dotdot-after-dir", [("a/", "d", None), ("a/../../x", "f", b"pwned\n")], GNU, "a/../../x"),
    ("dotdot-dir", [("../outside/", "d", None)], GNU, "../outside"),
    ("hardlink-absolute", [("link", "h", "/etc/passwd")], GNU, "/etc/passwd"),
    ("hardlink-dotdot", [("f", "f", b"x"), ("link", "h", "../f")], GNU, "../f"),
    ("hardlink-dotdot-inner", [("a/f", "f", b"x"), ("link", "h", "a/../../a/f")], GNU,
     "a/../../a/f"),
    ("hardlink-missing", [("f", "f", b"x"), ("link", "h", "not-in-archive")], GNU,
     "not-in-archive"),
    ("hardlink-later", [("link", "h", "later"), ("later", "f", b"x")], GNU, "later"),
    ("symlink-parent", [("evil", "l", "/etc"), ("evil/passwd", "f", b"pwned\n")], GNU,
     "evil/passwd"),
    ("symlink-parent-relative", [("up", "l", "../../.."), ("up/x", "f", b"pwned\n")], GNU,
     "up/x"),
    ("symlink-parent-hardlink", [("f", "f", b"x"), ("evil", "l", "/etc"), ("evil/passwd", "h", "f")],
     GNU, "evil/passwd"),
    ("symlink-parent-dir", [("evil", "l", "/etc"), ("evil/cron.d/", "d", None)], GNU,
     "evil/cron.d"),
    ("symlink-parent-whiteout", [("evil", "l", "/etc"), ("evil/.wh.passwd", "f", b"")], GNU,
     "evil/passwd"),
    ("symlink-parent-opaque", [("evil", "l", "/etc"), ("evil/.wh..wh..opq", "f", b"")], GNU,
     "evil"),
    ("whiteout-dotdot", [("d/", "d", None), ("d/.wh...", "f", b"")], GNU, "d/.."),
    ("dir-becomes-symlink", [("d/f", "f", b"x"), ("d", "l", "/etc")], GNU, "'d'"),
    ("pax-path-dotdot", [("benign", "f", b"pwned\n", {"path": "../../etc/passwd"})], PAX,
     "../../etc/passwd"),
    ("pax-linkpath-dotdot", [("f", "f", b"x"), ("link", "h", "f", {"linkpath": "../../etc/shadow"})],
     PAX, "../../etc/shadow"),
    ("gnu-longname-dotdot", [(f"../{LONG}/x", "f", b"pwned\n")], GNU, f"../{LONG}/x"),
    ("gnu-longlink-absolute", [(LONG, "h", "/" + LONG)], GNU, "/" + LONG),
]


def assert_clean_store(dcfs, store):
    assert dcfs.images() == []
    fsck = dcfs("fsck", check=False)
    assert fsck.returncode == 0, f"fsck after a refused import: {fsck.stdout}{fsck.stderr}"
    if not store.catalog.exists():
        return  # refused before the store was opened: nothing was created at all
    assert store.scalar("SELECT count(*) FROM layers") == 0
    assert store.scalar("SELECT count(*) FROM entries") == 0
    assert store.scalar("SELECT count(*) FROM chunks") == 0
    assert store.chunk_files() == {}, "a refused import left chunk files"
    assert store.tmp_leftovers() == [], "a refused import left its staging folder"


def one_error_line(p, command="import"):
    lines = p.stderr.splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}: {p.stderr!r}"
    assert lines[0].startswith(f"dcfs: {command}: "), lines[0]
    return lines[0]


@pytest.mark.parametrize("members,fmt,names", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_tar_is_refused(dcfs, store, tmp_path, members, fmt, names):
    tarball = build_tar(tmp_path / "hostile.tar", members, fmt)
    p = dcfs("import", tarball, "hostile", check=1)
    line = one_error_line(p)
    assert names in line, f"the error does not name the entry ({names!r}): {line}"
    assert_clean_store(dcfs, store)


def test_refused_import_leaves_existing_images_alone(dcfs, store, tmp_path, tree):
    t = tree()
    t.file("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
    t.file("big", bytes(range(256)) * 8000)
    dcfs("import", t.root, "good")
    before = store.counts()
    files = sorted(store.chunk_files())
    tarball = build_tar(tmp_path / "evil.tar", [
        ("fresh", "f", b"new content that would be stored\n" * 1000),
        ("evil", "l", "/etc"), ("evil/passwd", "f", b"pwned\n")])
    dcfs("import", tarball, "good", check=1)  # same ref: must not replace it either
    assert dcfs.images() == ["good:latest"]
    assert store.counts() == before
    assert sorted(store.chunk_files()) == files
    assert store.file_content("good:latest", "etc/passwd") == b"root:x:0:0::/root:/bin/sh\n"
    dcfs("fsck")


def test_absolute_member_names_stay_inside_the_root(dcfs, store, tmp_path):
    """Leading '/' and repeated or '.' components are dropped, as docker does."""
    tarball = build_tar(tmp_path / "abs.tar", [
        ("/etc/passwd", "f", b"inside\n"), ("//usr///bin/./x", "f", b"x"), ("./", "d", None)])
    dcfs("import", tarball, "abs")
    ents = store.entries("abs:latest")
    assert sorted(ents) == ["", "etc", "etc/passwd", "usr", "usr/bin", "usr/bin/x"]
    assert store.file_content("abs:latest", "etc/passwd") == b"inside\n"


def test_entry_deep_below_a_symlink_is_named(dcfs, store, tmp_path):
    """`evil -> /etc` then `evil/cron.d/job`: the refusal must name the archive entry, not the
    intermediate directory the ingest was about to create for it."""
    tarball = build_tar(tmp_path / "deep.tar", [("evil", "l", "/etc"),
                                                ("evil/cron.d/job", "f", b"* * * * * root sh\n")])
    line = one_error_line(dcfs("import", tarball, "deep", check=1))
    assert_clean_store(dcfs, store)
    assert "evil/cron.d/job" in line, (
        "BUG (fs/layer/layer_writer.c ensure_parents): the error names the implicit parent "
        f"'evil/cron.d', which is not an entry of the archive, instead of the entry: {line}")


def test_error_line_stays_one_line_for_names_with_newlines(dcfs, store, tmp_path):
    tarball = build_tar(tmp_path / "nl.tar", [("../evil\ndcfs: import: all good", "f", b"x")])
    p = dcfs("import", tarball, "nl", check=1)
    lines = p.stderr.splitlines()
    assert len(lines) == 1, (
        "BUG (fs/layer/layer_writer.c error messages / tools/main.c): an entry name with a newline is printed "
        f"raw, so the one-line error becomes {len(lines)} lines (log injection): {p.stderr!r}")
    assert_clean_store(dcfs, store)


def test_pax_path_with_nul_byte(dcfs, store, tmp_path):
    """A pax `path` record may carry a NUL byte. Whatever libarchive makes of it, no entry may
    escape the root. (libarchive 3.6 cuts the value at the NUL: 'ok\\0/../../etc/x' -> 'ok'.)"""
    results = {}
    for i, path in enumerate(["ok\x00/../../../etc/x", "../../x\x00ok", "a\x00b"]):
        st = type(store)(tmp_path / f"store{i}")
        tarball = build_tar(tmp_path / f"nul{i}.tar", [("benign", "f", b"abc", {"path": path})], PAX)
        p = dcfs("import", tarball, "nul", store=st, check=False)
        if p.returncode == 0:
            paths = sorted(st.entries("nul:latest"))
            results[path] = ("imported", paths)
            for q in paths:
                assert "\x00" not in q and not q.startswith("/"), q
                assert ".." not in q.split("/"), f"entry {q!r} escapes the root"
                assert "etc" not in q.split("/"), f"entry {q!r} came from past the NUL"
        else:
            results[path] = ("refused", one_error_line(p))
            assert dcfs.images(store=st) == []
    print("pax NUL handling:", results)


# ---- broken inputs and usage -------------------------------------------------------------


def test_not_a_tar(dcfs, store, tmp_path):
    junk = tmp_path / "junk.txt"
    junk.write_text("this is not an archive\n" * 100)
    one_error_line(dcfs("import", junk, "junk", check=1))
    empty = tmp_path / "empty.tar"
    empty.write_bytes(b"")
    one_error_line(dcfs("import", empty, "empty", check=1))
    gz = tmp_path / "text.gz"
    gz.write_bytes(gzip.compress(b"gzip, but no tar inside\n" * 100))
    one_error_line(dcfs("import", gz, "gz", check=1))
    assert_clean_store(dcfs, store)


def test_truncated_tar_gz(dcfs, store, tmp_path, tree):
    t = tree()
    for i in range(5):
        t.file(f"f{i}", bytes([i]) * 300_000 + bytes(range(256)) * 100)
    tgz = tmp_path / "full.tar.gz"
    with tarfile.open(tgz, "w:gz") as tf:
        tf.add(t.root, arcname=".")
    data = tgz.read_bytes()
    for cut in (len(data) // 3, len(data) - 20):
        part = tmp_path / f"cut{cut}.tar.gz"
        part.write_bytes(data[:cut])
        one_error_line(dcfs("import", part, "cut", check=1))
    plain = tmp_path / "full.tar"
    with tarfile.open(plain, "w") as tf:
        tf.add(t.root, arcname=".")
    raw = plain.read_bytes()
    part = tmp_path / "cut.tar"
    part.write_bytes(raw[:len(raw) // 2 + 100])
    one_error_line(dcfs("import", part, "cut", check=1))
    assert_clean_store(dcfs, store)


def test_missing_source(dcfs, store, tmp_path):
    missing = tmp_path / "does-not-exist"
    line = one_error_line(dcfs("import", missing, "x", check=1))
    assert str(missing) in line
    assert_clean_store(dcfs, store)


@pytest.mark.parametrize("ref", ["Bad:Ref!", "UPPER", "a:", ":tag", "x@sha256:1234", "a//b", ""])
def test_bad_reference(dcfs, store, tree, ref):
    t = tree()
    t.file("f", "x")
    line = one_error_line(dcfs("import", t.root, ref, check=1))
    assert "reference" in line
    assert_clean_store(dcfs, store)


@pytest.mark.parametrize("args", [
    [], ["import"], ["import", "onlysrc"], ["import", "a", "b", "c"], ["import", "--bogus", "a", "b"],
    ["no-such-command"], ["rmi"], ["du", "extra"], ["prune", "--max-size", "lots"],
    ["fsck", "--bogus"], ["images", "extra"],
])
def test_usage_errors_exit_2(dcfs, store, args):
    p = dcfs(*args, check=2)
    assert p.stderr.strip(), "a usage error must say something on stderr"
    assert p.stdout == ""
