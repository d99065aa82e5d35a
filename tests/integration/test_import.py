"""dcfs import: deduplication, exact round trip of the index and contents, tarballs, OCI
whiteouts, implicit parents, a real busybox root filesystem."""
import os
import random
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import build_tar, compare_index, decode_xattrs, scan_tree, walk_order

MIB = 1 << 20


def rnd_bytes(seed, n):
    return random.Random(seed).randbytes(n)


def text_bytes(seed, n):
    r = random.Random(seed)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"epsilon", b"zeta", b"eta", b"theta"]
    out = bytearray()
    while len(out) < n:
        out += r.choice(words) + b" "
    return bytes(out[:n])


def mixed_tree(t, seed=1):
    """Small (packed) and large (chunked) files, some compressible, in a few folders."""
    for i in range(30):
        t.file(f"small/s{i:02d}.txt", text_bytes(seed * 100 + i, 200 + i * 97))
    for i in range(10):
        t.file(f"small/r{i:02d}.bin", rnd_bytes(seed * 1000 + i, 3000 + i * 1111))
    t.file("big/one.bin", rnd_bytes(seed * 7, 3 * MIB + 12345))
    t.file("big/two.txt", text_bytes(seed * 9, 2 * MIB + 7))
    t.file("big/exact.bin", rnd_bytes(seed * 11, MIB))
    t.file("empty", b"")
    t.symlink("link", "big/one.bin")
    return t


# ---- deduplication ----------------------------------------------------------------------------


def test_reimport_same_tree_stores_nothing_new(dcfs, store, tree):
    t = mixed_tree(tree())
    first = dcfs.import_json(t.root, "first")
    assert first["ref"] == "first:latest"
    assert first["newStoredBytes"] > 0 and first["newChunks"] > 0
    files_before = {n: p.stat().st_size for n, p in store.chunk_files().items()}
    assert len(files_before) == first["newChunks"]
    assert sum(files_before.values()) == first["newStoredBytes"]

    for ref in ("second", "first"):  # another name, then the same name again
        again = dcfs.import_json(t.root, ref)
        assert again["newStoredBytes"] == 0, again
        assert again["newChunks"] == 0, again
        assert again["newPlainBytes"] == 0, again
        assert again["dedupBytes"] == again["fileBytes"] == first["fileBytes"], again
        files_after = {n: p.stat().st_size for n, p in store.chunk_files().items()}
        assert files_after == files_before, "a re-import changed the chunk files"

    assert sorted(dcfs.images()) == ["first:latest", "second:latest"]
    # Identical trees make one layer that both images use.
    assert store.layer_of("first:latest") == store.layer_of("second:latest")
    assert store.scalar("SELECT count(*) FROM layers") == 1
    dcfs("fsck")


def test_identical_files_in_one_tree_are_stored_once(dcfs, store, tree):
    t = tree()
    big = rnd_bytes(42, 2 * MIB + 500)
    small = text_bytes(43, 9000)
    tiny = b"same tiny content\n"
    distinct = [big, small, tiny]
    for i in range(4):
        t.file(f"copies{i}/big.bin", big)
        t.file(f"copies{i}/small.txt", small)
        t.file(f"copies{i}/deeper/tiny", tiny)
    uniq = []
    for i in range(5):
        data = rnd_bytes(100 + i, 1000 + i)
        uniq.append(data)
        t.file(f"unique/u{i}", data)
    distinct += uniq

    st = dcfs.import_json(t.root, "dups")
    total = 4 * (len(big) + len(small) + len(tiny)) + sum(map(len, uniq))
    assert st["fileBytes"] == total
    assert st["newPlainBytes"] == sum(map(len, distinct)), \
        "each distinct content must be stored exactly once"
    assert st["dedupBytes"] == 3 * (len(big) + len(small) + len(tiny))

    ents = store.entries("dups:latest")
    for name in ("big.bin", "small.txt", "deeper/tiny"):
        blobs = {ents[f"copies{i}/{name}"]["blob_id"] for i in range(4)}
        assert len(blobs) == 1, f"copies of {name} point at {len(blobs)} blobs"
    assert store.scalar("SELECT count(*) FROM blobs") == len(distinct)
    # Chunk plain bytes on disk hold each content once.
    plain = sum(len(store.read_chunk(h)) for h in store.chunk_files())
    assert plain == sum(map(len, distinct))
    for i in range(4):
        assert store.file_content("dups:latest", f"copies{i}/big.bin") == big
        assert store.file_content("dups:latest", f"copies{i}/deeper/tiny") == tiny
    dcfs("fsck")


# ---- the exact round trip ---------------------------------------------------------------------


def special_tree(t):
    """Every kind of entry a root filesystem has."""
    ns = 1_600_000_000_123_456_789
    t.dir("etc", mode=0o755)
    t.file("etc/hostname", "box\n", mtime_ns=ns)
    t.file("etc/shadow", "root:*:1::::::\n", mode=0o640, owner=(0, 42))
    t.file("usr/bin/tool", rnd_bytes(5, 70_000), mode=0o4755, mtime_ns=ns + 1)
    t.dir("tmp", mode=0o1777)
    t.dir("srv/data", mode=0o2750, owner=(1000, 1000))
    t.file("srv/data/owned", "x", owner=(12345, 54321))
    # xattrs: several user.* attributes incl. binary and empty values, on a file and a dir
    t.file("xa/file", "with attributes\n", xattrs={
        "user.mime_type": b"text/plain", "user.bin": bytes(range(256)), "user.empty": b"",
        "user.a": b"first by name"})
    subprocess.run(["setfattr", "-n", "user.cli", "-v", "set with setfattr", t.p("xa/file")],
                   check=True)
    subprocess.run(["setfattr", "-n", "user.hex", "-v", "0x00ff10", t.p("xa/file")], check=True)
    t.dir("xa/dir", xattrs={"user.dir": b"on a directory"})
    t.file("xa/plain", "no attributes at all\n")  # no xattrs, no security.capability
    # hardlinks: two names in one folder, and a three-name inode across folders
    t.file("hl/a", "hard linked content\n", mode=0o600)
    t.hardlink("hl/b", "hl/a")
    t.file("hl/multi", rnd_bytes(6, 100_000), xattrs={"user.shared": b"inode attr"})
    t.hardlink("hl2/m2", "hl/multi")
    t.hardlink("zz_last", "hl/multi")
    # symlinks: relative, absolute, dangling, to a directory
    t.symlink("links/rel", "../etc/hostname")
    t.symlink("links/abs", "/etc/passwd")
    t.symlink("links/dangling", "does/not/exist")
    t.symlink("links/dir", "/usr/bin")
    t.symlink("links/long", "x" * 1000)
    # special files
    t.chardev("dev/null", 1, 3)
    t.chardev("dev/big", 259, 70000)  # major/minor beyond 8 bits
    t.blockdev("dev/loop0", 7, 0)
    t.fifo("run/fifo")
    t.unix_socket("run/sock")
    # empty files and a sparse one
    t.file("empty1", b"")
    t.file("etc/empty2", b"", mode=0o400)
    t.sparse("var/sparse.img", 64 * MIB, {0: b"head", 10 * MIB + 3: b"middle bytes",
                                          64 * MIB - 5: b"tail!"})
    t.sparse("var/holey-small", 40_000, {20_000: b"small file with a hole"})
    t.sparse("var/all-hole", 5 * MIB, {})
    # odd names
    t.file("names/with space", "1")
    t.file("names/ünïcødé", "2")
    t.file("names/.hidden", "3")
    t.file("names/.wh.not-a-whiteout-in-a-dir", "4")
    return t


def test_directory_round_trips_exactly(dcfs, store, tree):
    t = special_tree(tree())
    expected = scan_tree(t.root)
    st = dcfs.import_json(t.root, "special")
    assert st["entries"] == len(expected)
    compare_index(store, "special:latest", expected, check_content_root=t.root)

    ents = store.entries("special:latest")
    # Spot checks on what the generic comparison covers, so that a failure reads clearly.
    assert ents["hl/b"]["type"] == "h" and ents["hl/b"]["target"] == "hl/a"
    assert ents["hl2/m2"]["target"] == "hl/multi" and ents["zz_last"]["target"] == "hl/multi"
    assert ents["links/abs"]["target"] == "/etc/passwd"
    assert ents["dev/big"]["rdev"] == os.makedev(259, 70000)
    assert ents["run/sock"]["type"] == "s" and ents["run/fifo"]["type"] == "p"
    assert ents["empty1"]["blob_id"] is None and ents["empty1"]["size"] == 0
    xa = decode_xattrs(ents["xa/file"]["xattrs"])
    assert xa["user.cli"] == b"set with setfattr" and xa["user.hex"] == b"\x00\xff\x10"
    assert ents["xa/plain"]["xattrs"] is None

    # The sparse file's holes are not stored: a few data blocks at most.
    sparse = ents["var/sparse.img"]
    assert sparse["size"] == 64 * MIB
    assert store.blob_plain_bytes(sparse["blob_id"]) <= 64 * 1024, \
        "the holes of a 64 MiB sparse file were stored"
    hole = ents["var/all-hole"]
    assert store.blob_plain_bytes(hole["blob_id"]) == 0
    assert st["newPlainBytes"] < 2 * MIB, st
    # The layer's recorded figures agree with its entries.
    layer = store.query("SELECT * FROM layers WHERE id = ?", (store.layer_of("special:latest"),))[0]
    assert layer["entries"] == len(expected)
    regular = [e for e in expected.values() if e["type"] == "f"]
    assert layer["files"] == len(regular)
    assert layer["size"] == sum(e["size"] for e in regular)
    dcfs("fsck")


def test_hardlink_metadata_survives_entry_table_growth(dcfs, store, tree):
    """A hardlink added exactly when the ingest's entry array grows (64, 128, ... entries) must
    still copy its target's metadata. MALLOC_PERTURB_ makes a read of freed memory visible."""
    t = tree()
    t.file("a", "linked\n", mode=0o640, owner=(7, 8), mtime_ns=1_500_000_000_000_000_001)
    # Entry 0 is the root and entry 1 is 'a'; names sort after 'a' in the order given.
    for i in range(2, 64):
        t.file(f"f{i:03d}", f"{i}\n")
    t.hardlink("g064", "a")  # entry 64: the array grows from 64 to 128 slots
    for i in range(65, 128):
        t.file(f"h{i:03d}", f"{i}\n")
    t.hardlink("i128", "a")  # entry 128
    assert walk_order(t.root).index("g064") == 64
    assert walk_order(t.root).index("i128") == 128
    expected = scan_tree(t.root)
    dcfs("import", t.root, "grow", env={"MALLOC_PERTURB_": "165"})
    ents = store.entries("grow:latest")
    for name in ("g064", "i128"):
        row = ents[name]
        got = {k: row[k] for k in ("type", "target", "mode", "uid", "gid", "mtime_ns", "size")}
        want = {k: expected[name][k] for k in got}
        assert got == want, (
            f"BUG (fs/layer/layer_writer.c dcfs_layer_writer_add): hardlink {name!r} got {got}, expected {want}: "
            "the `link` pointer into in->entries is used after new_entry()/ensure_parents() "
            "realloc'd the array")


def test_import_json_files_counts_every_regular_file(dcfs, store, tree):
    t = tree()
    t.file("a", "content")
    t.file("b", b"")
    t.file("c", b"")
    t.file("d/e", "more")
    st = dcfs.import_json(t.root, "counts")
    layer = store.query("SELECT files, entries FROM layers")[0]
    assert layer["files"] == 4
    assert st["entries"] == layer["entries"] == 6
    assert st["files"] == layer["files"], (
        f"BUG (fs/layer/layer_writer.c close_file): import --json reports files={st['files']} but the layer "
        f"records files={layer['files']}: empty regular files are not counted in stats.files")


def test_import_through_a_symlink_to_the_source_directory(dcfs, store, tree, tmp_path):
    t = mixed_tree(tree())
    link = tmp_path / "link-to-tree"
    os.symlink(t.root, link)
    p = dcfs("import", link, "vialink", check=False)
    assert p.returncode == 0, (
        "BUG (fs/layer/import_dir.c add_one for the root): `dcfs import LINK REF` where LINK is a "
        "symlink to a directory passes stat() in dcfs_import() but add_one(\"\") lstat()s the "
        f"root and fails: {p.stderr.strip()!r}")
    compare_index(store, "vialink:latest", scan_tree(t.root), check_content_root=t.root)


# ---- tarballs ---------------------------------------------------------------------------------


def tar_tree(t):
    """What tar keeps: no sockets, whole-second times (except the pax/posix case)."""
    t.file("etc/hostname", "box\n")
    t.file("etc/secret", "s3cret\n", mode=0o600, owner=(0, 42))
    t.file("bin/prog", rnd_bytes(21, 2 * MIB + 99), mode=0o755)
    t.file("share/doc.txt", text_bytes(22, 200_000))
    for i in range(20):
        t.file(f"share/small/{i:02d}", text_bytes(300 + i, 500 + 50 * i))
    t.file("empty", b"")
    t.dir("tmp", mode=0o1777)
    t.file("hl/first", "linked\n")
    t.hardlink("hl/second", "hl/first")
    t.symlink("lib", "usr/lib")
    t.symlink("abs", "/etc/hostname")
    t.symlink("dangling", "nowhere")
    t.chardev("dev/null", 1, 3)
    t.blockdev("dev/sda", 8, 0)
    t.fifo("fifo")
    t.set_mtimes(1_700_000_000 * 10**9)
    return t


def make_tarball(kind, root: Path, out_dir: Path) -> Path:
    if kind in ("plain", "gz", "xz", "bz2"):
        suffix = {"plain": ".tar", "gz": ".tar.gz", "xz": ".tar.xz", "bz2": ".tar.bz2"}[kind]
        out = out_dir / f"tree{suffix}"
        mode = "w" if kind == "plain" else f"w:{kind}"
        with tarfile.open(out, mode) as tf:
            tf.add(root, arcname=".")
        return out
    if kind == "zstd":
        out = out_dir / "tree.tar.zst"
        subprocess.run(["tar", "--zstd", "--sort=name", "-cf", out, "-C", root, "."], check=True)
        return out
    if kind == "zstd-posix-xattrs":
        out = out_dir / "tree-pax.tar.zst"
        subprocess.run(["tar", "--zstd", "--sort=name", "--format=posix", "--xattrs",
                        "--xattrs-include=*", "-cf", out, "-C", root, "."], check=True)
        return out
    if kind == "gnu-sparse":
        out = out_dir / "tree-sparse.tar"
        subprocess.run(["tar", "--sparse", "--sort=name", "-cf", out, "-C", root, "."], check=True)
        return out
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["plain", "gz", "zstd", "xz", "bz2"])
def test_tarball_gives_the_same_layer_as_the_directory(dcfs, store, tree, tmp_path, kind):
    t = tar_tree(tree())
    tarball = make_tarball(kind, t.root, tmp_path)
    expected = scan_tree(t.root)
    dcfs("import", t.root, "fromdir")
    st = dcfs.import_json(tarball, "fromtar")
    assert st["newStoredBytes"] == 0, "the tarball's contents were already in the store"
    fields = ("type", "mode", "uid", "gid", "mtime_ns", "size", "target", "rdev", "opaque")
    compare_index(store, "fromtar:latest", expected, fields=fields, check_content_root=t.root)
    # Same entries and contents: the very same layer.
    assert store.layer_of("fromtar:latest") == store.layer_of("fromdir:latest")
    dcfs("fsck")


def test_pax_tarball_keeps_nanoseconds_and_xattrs(dcfs, store, tree, tmp_path):
    t = tree()
    t.file("a", "attrs\n", xattrs={"user.one": b"1", "user.two": bytes([0, 255, 10])},
           mtime_ns=1_650_000_000_987_654_321)
    t.file("b/c", rnd_bytes(3, 150_000), mtime_ns=1_650_000_001_000_000_001)
    t.symlink("b/l", "c")
    os.utime(t.p("b"), ns=(1_650_000_002_000_000_005, 1_650_000_002_000_000_005))
    os.utime(t.root, ns=(1_650_000_003_000_000_007, 1_650_000_003_000_000_007))
    tarball = make_tarball("zstd-posix-xattrs", t.root, tmp_path)
    dcfs("import", tarball, "pax")
    expected = scan_tree(t.root)
    compare_index(store, "pax:latest", expected, check_content_root=t.root)


def test_gnu_sparse_tarball(dcfs, store, tree, tmp_path):
    t = tree()
    t.sparse("disk.img", 32 * MIB, {4096: b"boot", 20 * MIB: b"data" * 100, 32 * MIB - 3: b"end"})
    t.file("plain", "x")
    t.set_mtimes(1_700_000_000 * 10**9)
    tarball = make_tarball("gnu-sparse", t.root, tmp_path)
    st = dcfs.import_json(tarball, "sparse")
    assert st["newPlainBytes"] < 256 * 1024, f"holes of a sparse tar entry were stored: {st}"
    assert store.file_content("sparse:latest", "disk.img") == t.p("disk.img").read_bytes()
    dcfs("fsck")
def test_oci_whiteouts(dcfs, store, tmp_path):
    tarball = build_tar(tmp_path / "layer.tar", [
        ("./", "d", None),
        ("dir/", "d", None),
        ("dir/.wh.gone", "f", b""),
        ("dir/kept", "f", b"kept\n"),
        ("opq/", "d", None),
        ("opq/.wh..wh..opq", "f", b""),
        ("opq/new", "f", b"new\n"),
        (".wh.toplevel", "f", b""),
        ("late/.wh..wh..opq", "f", b""),  # marker before its directory
        ("late/", "d", None),
        ("aufs/.wh..wh.plnk", "f", b""),  # aufs bookkeeping: ignored
    ])
    dcfs("import", tarball, "whiteouts")
    ents = store.entries("whiteouts:latest")
    assert not [p for p in ents if ".wh." in p], f"marker files became entries: {sorted(ents)}"
    assert ents["dir/gone"]["type"] == "w"
    assert ents["toplevel"]["type"] == "w"
    assert ents["opq"]["type"] == "d" and ents["opq"]["opaque"] == 1
    assert ents["late"]["type"] == "d" and ents["late"]["opaque"] == 1
    assert ents["dir"]["opaque"] == 0 and ents[""]["opaque"] == 0
    assert ents["dir/kept"]["type"] == "f" and ents["opq/new"]["type"] == "f"
    assert store.file_content("whiteouts:latest", "opq/new") == b"new\n"
    dcfs("fsck")


def test_missing_parent_directories_are_created(dcfs, store, tmp_path):
    tarball = build_tar(tmp_path / "noparents.tar", [
        ("a/b/c/file.txt", "f", b"deep\n"),
        ("x/y/link", "l", "../../a/b/c/file.txt"),
        ("./a/b/sibling", "f", b"sib\n"),
    ])
    dcfs("import", tarball, "parents")
    ents = store.entries("parents:latest")
    assert sorted(ents) == ["", "a", "a/b", "a/b/c", "a/b/c/file.txt", "a/b/sibling", "x",
                            "x/y", "x/y/link"]
    for d in ("", "a", "a/b", "a/b/c", "x", "x/y"):
        e = ents[d]
        assert (e["type"], e["mode"], e["uid"], e["gid"], e["mtime_ns"]) == ("d", 0o755, 0, 0, 0), \
            f"implicit directory {d!r}: {e}"
    assert store.file_content("parents:latest", "a/b/c/file.txt") == b"deep\n"
    assert ents["x/y/link"]["target"] == "../../a/b/c/file.txt"


def test_tar_with_the_same_file_twice(dcfs, store, tmp_path):
    """GNU tar archives a file named twice (`tar cf t.tar f f`) as the file and then a hardlink
    of it to itself. The content must survive."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_bytes(b"hello\n")
    tarball = tmp_path / "twice.tar"
    subprocess.run(["tar", "cf", tarball, "f", "f"], cwd=src, check=True)
    members = tarfile.open(tarball).getmembers()
    assert [(m.name, m.type) for m in members] == [("f", tarfile.REGTYPE), ("f", tarfile.LNKTYPE)]
    p = dcfs("import", tarball, "twice", check=False)
    if p.returncode != 0:
        return  # refusing the archive is acceptable; losing the file is not
    ents = store.entries("twice:latest")
    f = ents["f"]
    assert f["type"] == "f" and f["size"] == 6 and store.entry_content(f) == b"hello\n", (
        "BUG (fs/layer/layer_writer.c dcfs_layer_writer_add/check_hardlink): a hardlink entry whose target is its "
        f"own path replaced the file with a self-referencing hardlink: {f}")


# ---- a real root filesystem -------------------------------------------------------------------


BUSYBOX = Path("/bin/busybox")


@pytest.mark.skipif(not BUSYBOX.exists(), reason="busybox-static is not installed")
def test_busybox_rootfs(dcfs, store, tree, tmp_path):
    t = tree("rootfs")
    t.dir("bin")
    shutil.copy2(BUSYBOX, t.p("bin/busybox"))
    for applet in ("sh", "ls", "cat", "echo", "mkdir", "sed"):
        t.symlink(f"bin/{applet}", "busybox")
    t.symlink("usr/bin/env", "/bin/busybox")
    t.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
    t.file("etc/group", "root:x:0:\n")
    t.dir("root", mode=0o700)
    t.dir("tmp", mode=0o1777)
    t.dir("proc", mode=0o555)
    t.set_mtimes(1_700_000_000 * 10**9)  # whole seconds, as a tarball keeps them
    expected = scan_tree(t.root)
    dcfs("import", t.root, "busybox")
    assert dcfs.images() == ["busybox:latest"]
    compare_index(store, "busybox:latest", expected, check_content_root=t.root)

    # The rebuilt binary runs.
    (tmp_path / "rebuilt").mkdir()
    exe = tmp_path / "rebuilt" / "busybox"  # busybox picks its applet from argv[0]
    exe.write_bytes(store.file_content("busybox:latest", "bin/busybox"))
    exe.chmod(0o755)
    out = subprocess.run([exe, "echo", "hello from the store"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "hello from the store\n"

    # The same root filesystem as a tarball is the same layer.
    tgz = tmp_path / "rootfs.tar.gz"
    with tarfile.open(tgz, "w:gz") as tf:
        tf.add(t.root, arcname=".")
    st = dcfs.import_json(tgz, "docker.io/library/busybox:tar")
    assert st["ref"] == "busybox:tar"
    assert st["newStoredBytes"] == 0
    assert store.layer_of("busybox:tar") == store.layer_of("busybox:latest")
    dcfs("fsck")


def test_reference_normalization_and_store_env(dcfs, store, tree):
    t = tree()
    t.file("f", "x")
    for ref, want in [("busybox", "busybox:latest"),
                      ("docker.io/library/alpine:3.19", "alpine:3.19"),
                      ("ghcr.io/owner/img:v1", "ghcr.io/owner/img:v1"),
                      ("localhost:5000/team/app", "localhost:5000/team/app:latest")]:
        assert dcfs.import_json(t.root, ref)["ref"] == want
    # DCFS_STORE is used when --store is not given.
    p = dcfs("images", "-q", store=False, env={"DCFS_STORE": str(store.path)})
    assert sorted(p.stdout.split()) == sorted(
        ["busybox:latest", "alpine:3.19", "ghcr.io/owner/img:v1", "localhost:5000/team/app:latest"])
    dcfs("rmi", "busybox", "docker.io/library/alpine:3.19")
    assert sorted(dcfs.images()) == ["ghcr.io/owner/img:v1", "localhost:5000/team/app:latest"]


@pytest.mark.parametrize("replacement", [
    ("a", "f", b"new!"), ("a/", "d", None), ("a", "l", "/etc/passwd"), (".wh.a", "f", b""),
], ids=["by-a-file", "by-a-directory", "by-a-symlink", "by-a-whiteout"])
def test_replacing_the_target_of_a_hardlink(dcfs, store, tmp_path, replacement):
    """`a`, then `b` hardlinked to `a`, then `a` again as something else: extracting the archive
    (GNU tar) leaves `b` a regular file with a's old content. Whatever dcfs does, its index must
    stay consistent: a hardlink names an entry of the same inode, never a directory, a symlink
    or a whiteout, with that entry's size."""
    tarball = build_tar(tmp_path / "replace.tar", [
        ("a", "f", b"old content"), ("b", "h", "a"), replacement])
    p = dcfs("import", tarball, "repl", check=False)
    if p.returncode != 0:
        return  # refusing such an archive is consistent too
    ents = store.entries("repl:latest")
    b = ents["b"]
    target = ents.get(b["target"]) if b["type"] == "h" else b
    problem = None
    if target is None:
        problem = f"b is a hardlink to {b['target']!r}, which is not in the index"
    elif target["type"] != "f":
        problem = f"b is a hardlink to {b['target']!r} of type {target['type']!r}"
    elif target["size"] != b["size"]:
        problem = f"b says {b['size']} bytes, its target {target['size']}"
    elif store.entry_content(target) != b"old content":
        problem = f"b reads {store.entry_content(target)!r}, the archive linked it to b'old content'"
    assert problem is None, (
        "BUG (fs/layer/layer_writer.c dcfs_layer_writer_add): replacing an entry does not look at the hardlinks "
        f"that name it: {problem} (entries: a={ents['a']['type']!r}, b={b})")


def test_pack_and_chunk_boundaries(dcfs, store, tree):
    """Files at the small/large threshold (64 KiB) and packs filled to exactly 1 MiB."""
    t = tree()
    sizes = {"at-64k-minus-1": 65535, "at-64k": 65536, "at-64k-plus-1": 65537,
             "at-1m": MIB, "at-1m-plus-1": MIB + 1, "one-byte": 1}
    for i, (name, n) in enumerate(sizes.items()):
        t.file(f"edge/{name}", rnd_bytes(700 + i, n))
    for i in range(40):  # 16 of them fill a pack exactly
        t.file(f"fill/{i:02d}", rnd_bytes(800 + i, 65536))
    st = dcfs.import_json(t.root, "edges")
    assert st["newPlainBytes"] == st["fileBytes"]
    for path in list(f"edge/{n}" for n in sizes) + [f"fill/{i:02d}" for i in range(40)]:
        assert store.file_content("edges:latest", path) == t.p(path).read_bytes(), path
    plain = [r["plain_size"] for r in store.query("SELECT plain_size FROM chunks")]
    assert max(plain) <= MIB
    assert plain.count(MIB) >= 3, f"packs of 16 x 64 KiB should fill whole chunks: {sorted(plain)}"
    ents = store.entries("edges:latest")
    for name in ("at-64k-plus-1", "at-1m-plus-1"):  # large files: chunks of their own
        n = store.scalar("SELECT count(*) FROM extents WHERE blob_id = ?", (ents[f"edge/{name}"]["blob_id"],))
        assert n == (2 if name == "at-1m-plus-1" else 1), (name, n)
    dcfs("fsck")


OLD = b"old content"
HARDLINK_GROUPS = {
    # three names, the first replaced by a new file, then a link to a later name
    "group": ([("a", "f", OLD), ("b", "h", "a"), ("c", "h", "a"), ("a", "f", b"new!"),
               ("d", "h", "c")], {"a": b"new!", "b": OLD, "c": OLD, "d": OLD}),
    # the first name re-linked to its own second name (GNU tar: one inode, two names)
    "relink-first": ([("a", "f", OLD), ("b", "h", "a"), ("a", "h", "b")], {"a": OLD, "b": OLD}),
    # a link re-linked through another link of the same inode
    "relink-second": ([("a", "f", OLD), ("b", "h", "a"), ("c", "h", "b"), ("b", "h", "c")],
                      {"a": OLD, "b": OLD, "c": OLD}),
    # the same link twice
    "link-twice": ([("a", "f", OLD), ("b", "h", "a"), ("b", "h", "a")], {"a": OLD, "b": OLD}),
}


@pytest.mark.parametrize("case", sorted(HARDLINK_GROUPS))
def test_hardlink_groups_survive_replacements(dcfs, store, tmp_path, case):
    """What GNU tar extracts from these archives: every name reads the content of its inode. In
    the index every hardlink names a regular file of its own size (never itself)."""
    members, want = HARDLINK_GROUPS[case]
    tarball = build_tar(tmp_path / f"{case}.tar", members)
    extracted = tmp_path / "extracted"
    extracted.mkdir()
    subprocess.run(["tar", "xf", tarball, "-C", extracted], check=True)
    assert {n: (extracted / n).read_bytes() for n in want} == want  # the reference
    p = dcfs("import", tarball, "group", check=False)
    if p.returncode != 0:
        return  # refusing such an archive is consistent too
    ents = store.entries("group:latest")

    def resolve(path):
        row = ents[path]
        if row["type"] == "h":
            target = ents.get(row["target"])
            assert target is not None and target["type"] == "f" and target["path"] != path, (
                f"BUG (fs/layer/layer_writer.c dcfs_layer_writer_add/check_hardlink/promote_hardlinks): hardlink "
                f"{path!r} names {row['target']!r}: {target}")
            assert target["size"] == row["size"], (path, row, target)
            row = target
        return store.entry_content(row)

    got = {n: resolve(n) for n in want}
    assert got == want, f"BUG (fs/layer/layer_writer.c dcfs_layer_writer_add): names read {got}, expected {want}"
