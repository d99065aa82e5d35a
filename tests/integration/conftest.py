"""Shared fixtures and helpers for the dcfs integration tests.

The tests drive the real `dcfs` binary (env DCFS_BIN, default <repo>/build/tools/dcfs) against
a fresh store in each test's tmp_path, then check what it left behind directly: the SQLite
catalog (read with Python's sqlite3) and the chunk files (decompressed with the zstd CLI).

Two guards apply to every test (see "guards" below): a time limit (DCFS_TEST_TIMEOUT seconds,
300 by default, 0 for none; @pytest.mark.timeout(N) raises it for a slow test), so that a hung
mount fails the run instead of stalling it; and a check that the test left no FUSE or overlay
mount under the session's temporary folders (those it left are unmounted lazily and the test
fails; what module fixtures leave fails the session).
"""
import ctypes
import faulthandler
import hashlib
import io
import os
import re
import signal
import socket
import sqlite3
import stat
import struct
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ZERO_HASH_HEX = "0" * 64


def dcfs_binary() -> Path:
    return Path(os.environ.get("DCFS_BIN") or REPO / "build" / "tools" / "dcfs")


def pytest_report_header(config):
    return f"dcfs binary: {dcfs_binary()}"


# ---- running the binary -------------------------------------------------------------------


class Dcfs:
    """Runs `dcfs [--store STORE] ARGS...` and returns the CompletedProcess (text mode).

    check=True expects exit 0, check=<int> expects that exit code, check=False checks nothing.
    store=None uses the fixture's store; store=False passes no --store (DCFS_STORE or default).
    """

    def __init__(self, binary: Path, store: "Store"):
        self.binary = binary
        self.store = store

    def __call__(self, *args, store=None, check=True, env=None, timeout=300, input=None):
        cmd = [str(self.binary)]
        st = self.store if store is None else store
        if st is not False:
            cmd += ["--store", str(st.path if isinstance(st, Store) else st)]
        cmd += [str(a) for a in args]
        full_env = dict(os.environ)
        full_env.pop("DCFS_STORE", None)
        if env:
            full_env.update(env)
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", env=full_env,
                           timeout=timeout, input=input, stdin=None if input else subprocess.DEVNULL)
        want = 0 if check is True else check
        if check is not False and p.returncode != want:
            raise AssertionError(
                f"{' '.join(cmd)}: exit {p.returncode}, expected {want}\n"
                f"--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}")
        return p

    def popen(self, *args, store=None, **kw):
        st = self.store if store is None else store
        cmd = [str(self.binary), "--store", str(st.path if isinstance(st, Store) else st)]
        cmd += [str(a) for a in args]
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **kw)

    def import_json(self, src, ref, store=None, env=None):
        import json
        p = self("import", "--json", src, ref, store=store, env=env)
        lines = p.stdout.strip().splitlines()
        assert len(lines) == 1, f"import --json printed {len(lines)} lines: {p.stdout!r}"
        return json.loads(lines[0])

    def json(self, *args, store=None):
        import json
        return json.loads(self(*args, store=store).stdout)

    def images(self, store=None):
        return self("images", "-q", store=store).stdout.split()


# ---- reading a store ----------------------------------------------------------------------


class Store:
    """A store directory and read-only views of what is in it."""

    def __init__(self, path):
        self.path = Path(path)
        self._chunk_cache = {}

    @property
    def catalog(self) -> Path:
        return self.path / "catalog.db"

    def connect(self):
        con = sqlite3.connect(self.catalog, timeout=30)
        con.row_factory = sqlite3.Row
        return con

    def query(self, sql, params=()):
        con = self.connect()
        try:
            return [dict(r) for r in con.execute(sql, params)]
        finally:
            con.close()

    def scalar(self, sql, params=()):
        con = self.connect()
        try:
            row = con.execute(sql, params).fetchone()
            return row[0] if row else None
        finally:
            con.close()

    def execute(self, sql, params=()):
        """Change the catalog behind dcfs's back (tests that tamper)."""
        con = sqlite3.connect(self.catalog, timeout=30)
        try:
            con.execute(sql, params)
            con.commit()
        finally:
            con.close()

    # chunk files

    def chunk_files(self) -> dict:
        """hex name -> Path of every file under chunks/<xx>/."""
        out = {}
        chunks = self.path / "chunks"
        if not chunks.is_dir():
            return out
        for sub in sorted(chunks.iterdir()):
            if sub.is_dir():
                for f in sorted(sub.iterdir()):
                    out[f.name] = f
        return out

    def chunk_path(self, hexname: str) -> Path:
        return self.path / "chunks" / hexname[:2] / hexname

    def read_chunk(self, hexname: str, verify=True) -> bytes:
        """Decompress chunks/ab/<hex> with the zstd CLI (and check its name is its SHA-256)."""
        if hexname in self._chunk_cache:
            return self._chunk_cache[hexname]
        data = zstd_decompress(self.chunk_path(hexname))
        if verify:
            assert hashlib.sha256(data).hexdigest() == hexname, \
                f"chunk {hexname}: decompressed bytes do not match its name"
        self._chunk_cache[hexname] = data
        return data

    def forget_chunks(self):
        self._chunk_cache.clear()

    # catalog views

    def layer_of(self, ref: str) -> int:
        rows = self.query("SELECT il.layer_id FROM images i JOIN image_layers il"
                          " ON il.image_id = i.id WHERE i.ref = ? ORDER BY il.pos", (ref,))
        assert rows, f"no image {ref!r} in the catalog"
        assert len(rows) == 1, f"image {ref!r} has {len(rows)} layers, expected 1"
        return rows[0]["layer_id"]

    def entries(self, ref: str) -> dict:
        """path -> entry row of the (single) layer of image `ref`."""
        layer = self.layer_of(ref)
        rows = self.query("SELECT * FROM entries WHERE layer_id = ?", (layer,))
        return {r["path"]: r for r in rows}

    def blob_content(self, blob_id: int, size=None) -> bytes:
        blob = self.query("SELECT size FROM blobs WHERE id = ?", (blob_id,))
        assert blob, f"blob {blob_id} is missing"
        bsize = blob[0]["size"]
        if size is not None:
            assert bsize == size, f"blob {blob_id}: size {bsize}, entry says {size}"
        exts = self.query("SELECT x.file_off, x.chunk_off, x.len, lower(hex(c.hash)) AS h,"
                          " c.plain_size FROM extents x JOIN chunks c ON c.id = x.chunk_id"
                          " WHERE x.blob_id = ? ORDER BY x.file_off", (blob_id,))
        buf = bytearray(bsize)
        end = 0
        for x in exts:
            assert x["file_off"] >= end, f"blob {blob_id}: overlapping extents"
            assert x["file_off"] + x["len"] <= bsize, f"blob {blob_id}: extent past its end"
            data = self.read_chunk(x["h"])
            assert len(data) == x["plain_size"], f"chunk {x['h']}: plain size differs"
            assert x["chunk_off"] + x["len"] <= len(data), f"blob {blob_id}: extent outside chunk"
            buf[x["file_off"]:x["file_off"] + x["len"]] = data[x["chunk_off"]:x["chunk_off"] + x["len"]]
            end = x["file_off"] + x["len"]
        return bytes(buf)

    def entry_content(self, row: dict) -> bytes:
        if row["blob_id"] is None:
            assert row["size"] == 0, f"{row['path']!r}: {row['size']} bytes but no blob"
            return b""
        return self.blob_content(row["blob_id"], row["size"])

    def file_content(self, ref: str, path: str) -> bytes:
        ents = self.entries(ref)
        row = ents[path]
        if row["type"] == "h":
            row = ents[row["target"]]
        assert row["type"] == "f", f"{path!r} is type {row['type']!r}"
        return self.entry_content(row)

    def blob_plain_bytes(self, blob_id: int) -> int:
        return self.scalar("SELECT coalesce(sum(len), 0) FROM extents WHERE blob_id = ?", (blob_id,))

    def counts(self) -> dict:
        return {t: self.scalar(f"SELECT count(*) FROM {t}")
                for t in ("chunks", "blobs", "extents", "layers", "entries", "images")}

    def tmp_leftovers(self):
        tmp = self.path / "tmp"
        return sorted(p.name for p in tmp.iterdir()) if tmp.is_dir() else []


def zstd_decompress(path) -> bytes:
    p = subprocess.run(["zstd", "-d", "-c", "-q", str(path)], capture_output=True)
    if p.returncode != 0:
        raise AssertionError(f"zstd -d {path}: {p.stderr.decode(errors='replace')}")
    return p.stdout


# ---- xattrs encoding ------------------------------------------------------------------------


def encode_xattrs(attrs: dict):
    """The catalog's encoding: [u16 name_len][name][u32 value_len][value] sorted by name;
    None when there are none."""
    if not attrs:
        return None
    out = bytearray()
    for name in sorted(attrs, key=lambda n: n.encode() if isinstance(n, str) else n):
        nb = name.encode() if isinstance(name, str) else name
        val = attrs[name]
        out += struct.pack("<H", len(nb)) + nb + struct.pack("<I", len(val)) + val
    return bytes(out)


def decode_xattrs(blob) -> dict:
    if blob is None:
        return {}
    blob = bytes(blob)
    out, pos = {}, 0
    while pos < len(blob):
        (nlen,) = struct.unpack_from("<H", blob, pos)
        pos += 2
        name = blob[pos:pos + nlen].decode()
        pos += nlen
        (vlen,) = struct.unpack_from("<I", blob, pos)
        pos += 4
        out[name] = blob[pos:pos + vlen]
        pos += vlen
    assert pos == len(blob), "malformed xattrs encoding"
    return out


# ---- building trees -------------------------------------------------------------------------


class Tree:
    """Builds a directory tree for import. Paths are relative to the root."""

    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def p(self, rel) -> Path:
        return self.root / rel

    def _parent(self, rel):
        self.p(rel).parent.mkdir(parents=True, exist_ok=True)

    def file(self, rel, data=b"", mode=0o644, xattrs=None, mtime_ns=None, owner=None):
        self._parent(rel)
        if isinstance(data, str):
            data = data.encode()
        path = self.p(rel)
        path.write_bytes(data)
        os.chmod(path, mode)
        self._meta(rel, xattrs, mtime_ns, owner)
        return path

    def dir(self, rel, mode=0o755, xattrs=None, mtime_ns=None, owner=None):
        path = self.p(rel)
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, mode)
        self._meta(rel, xattrs, mtime_ns, owner)
        return path

    def symlink(self, rel, target, mtime_ns=None, owner=None):
        self._parent(rel)
        os.symlink(target, self.p(rel))
        if owner:
            os.chown(self.p(rel), *owner, follow_symlinks=False)
        if mtime_ns is not None:
            os.utime(self.p(rel), ns=(mtime_ns, mtime_ns), follow_symlinks=False)
        return self.p(rel)

    def hardlink(self, rel, existing):
        self._parent(rel)
        os.link(self.p(existing), self.p(rel))
        return self.p(rel)

    def fifo(self, rel, mode=0o600):
        self._parent(rel)
        os.mkfifo(self.p(rel), mode)
        return self.p(rel)

    def chardev(self, rel, major, minor, mode=0o666):
        self._parent(rel)
        os.mknod(self.p(rel), stat.S_IFCHR | mode, os.makedev(major, minor))
        return self.p(rel)

    def blockdev(self, rel, major, minor, mode=0o660):
        self._parent(rel)
        os.mknod(self.p(rel), stat.S_IFBLK | mode, os.makedev(major, minor))
        return self.p(rel)

    def unix_socket(self, rel):
        self._parent(rel)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.bind(str(self.p(rel)))
        finally:
            s.close()
        return self.p(rel)

    def sparse(self, rel, size, writes: dict, mode=0o644):
        """A file of `size` bytes, all hole except the given {offset: bytes} writes."""
        self._parent(rel)
        path = self.p(rel)
        with open(path, "wb") as f:
            f.truncate(size)
            for off, data in writes.items():
                f.seek(off)
                f.write(data)
        os.chmod(path, mode)
        return path

    def _meta(self, rel, xattrs, mtime_ns, owner):
        path = self.p(rel)
        for name, value in (xattrs or {}).items():
            os.setxattr(path, name, value)
        if owner:
            os.chown(path, *owner)
        if mtime_ns is not None:
            os.utime(path, ns=(mtime_ns, mtime_ns))

    def set_mtimes(self, ns: int):
        """Give every entry (and the root) the same mtime; children first so that directory
        times stick. Useful for comparing with tarballs that keep whole seconds."""
        for dirpath, dirnames, filenames in os.walk(self.root, topdown=False):
            for n in filenames + dirnames:
                os.utime(os.path.join(dirpath, n), ns=(ns, ns), follow_symlinks=False)
        os.utime(self.root, ns=(ns, ns))


def walk_order(root: Path):
    """Relative paths in dcfs's walk order: the root, then depth first, names sorted by bytes."""
    out = [""]

    def rec(rel):
        full = root / rel if rel else root
        names = sorted(os.listdir(full), key=os.fsencode)
        for n in names:
            child = f"{rel}/{n}" if rel else n
            out.append(child)
            st = os.lstat(root / child)
            if stat.S_ISDIR(st.st_mode):
                rec(child)

    rec("")
    return out


_TYPE_LETTERS = {stat.S_IFREG: "f", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFCHR: "c",
                 stat.S_IFBLK: "b", stat.S_IFIFO: "p"}


def _type_of(mode):
    """The letter of mode's file type: f, d, l, c, b, p, or s for a socket (or anything else)."""
    return _TYPE_LETTERS.get(stat.S_IFMT(mode), "s")


def scan_tree(root) -> dict:
    """What the catalog should say about a directory tree: path -> expected fields.

    Hardlinks: the first name in walk order is the entry of type 'f' (or whatever the inode is);
    later names are type 'h' with `target` = that first name and the inode's metadata."""
    root = Path(root)
    out, first_of = {}, {}
    for rel in walk_order(root):
        full = root / rel if rel else root
        st = os.lstat(full)
        typ = _type_of(st.st_mode)
        e = {
            "type": typ,
            "mode": st.st_mode & 0o7777,
            "uid": st.st_uid,
            "gid": st.st_gid,
            "mtime_ns": st.st_mtime_ns,
            "size": st.st_size if typ == "f" else 0,
            "target": None,
            "rdev": st.st_rdev if typ in "cb" else 0,
            "xattrs": {n: os.getxattr(full, n, follow_symlinks=False)
                       for n in os.listxattr(full, follow_symlinks=False)},
            "opaque": 0,
        }
        if typ == "l":
            e["target"] = os.readlink(full)
        if typ != "d" and st.st_nlink > 1:
            key = (st.st_dev, st.st_ino)
            if key in first_of:
                e["type"] = "h"
                e["target"] = first_of[key]
            else:
                first_of[key] = rel
        out[rel] = e
    return out


def diff_dicts(a: dict, b: dict, only_a: str, only_b: str, differ: str) -> list:
    """One message per key on which a and b disagree, sorted: "KEY: only_a" for a key a alone
    has, "KEY: only_b" for one b alone has, "KEY: differ" with {a} and {b} filled in."""
    problems = []
    for p in sorted(set(a) | set(b)):
        if p not in b:
            problems.append(f"{p}: {only_a}")
        elif p not in a:
            problems.append(f"{p}: {only_b}")
        elif a[p] != b[p]:
            problems.append(f"{p}: " + differ.format(a=a[p], b=b[p]))
    return problems


def compare_index(store: Store, ref: str, expected: dict, fields=None, check_content_root=None):
    """Assert the catalog index of `ref` equals `expected` (from scan_tree): same paths, and for
    each entry every field. Regular files' contents are rebuilt from the chunks and compared with
    the files under `check_content_root` when given. Returns the catalog entries."""
    fields = fields or ("type", "mode", "uid", "gid", "mtime_ns", "size", "target", "rdev", "opaque")
    ents = store.entries(ref)
    assert sorted(ents) == sorted(expected), (
        f"paths differ: only in catalog {sorted(set(ents) - set(expected))}, "
        f"only in source {sorted(set(expected) - set(ents))}")
    problems = []
    for path, exp in expected.items():
        row = ents[path]
        for f in fields:
            if row[f] != exp[f]:
                problems.append(f"{path!r}: {f} is {row[f]!r}, expected {exp[f]!r}")
        if "xattrs" in exp:
            # A hardlink carries its inode's attributes through its target entry.
            src = ents[row["target"]] if row["type"] == "h" and row["target"] in ents else row
            got = decode_xattrs(src["xattrs"])
            if got != exp["xattrs"]:
                problems.append(f"{path!r}: xattrs {got!r}, expected {exp['xattrs']!r}")
            if src is row and exp["xattrs"] and bytes(row["xattrs"]) != encode_xattrs(exp["xattrs"]):
                problems.append(f"{path!r}: xattrs encoding is not the canonical sorted one")
        if row["type"] == "f":
            if row["size"] > 0 and row["blob_id"] is None:
                problems.append(f"{path!r}: regular file of {row['size']} bytes without blob")
            if check_content_root is not None:
                want = (Path(check_content_root) / path).read_bytes()
                got = store.entry_content(row)
                if got != want:
                    problems.append(f"{path!r}: content differs ({len(got)} bytes rebuilt, "
                                    f"{len(want)} in the source)")
        elif row["blob_id"] is not None:
            problems.append(f"{path!r}: type {row['type']!r} has a blob")
    assert not problems, "catalog index differs from the source:\n  " + "\n  ".join(problems)
    return ents


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dcfs_bin():
    p = dcfs_binary()
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.fail(f"dcfs binary not found at {p}: build it (ninja -C build) or set DCFS_BIN",
                    pytrace=False)
    return p


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "store")


@pytest.fixture
def dcfs(dcfs_bin, store) -> Dcfs:
    return Dcfs(dcfs_bin, store)


@pytest.fixture
def tree(tmp_path):
    """Factory: tree("name") -> a Tree rooted at tmp_path/name."""
    def make(name="tree"):
        return Tree(tmp_path / name)
    return make


def mounted_at(path) -> bool:
    """Whether something is mounted at `path`, a dead FUSE mount too (os.path.ismount says no
    when stat fails with ENOTCONN, and a teardown would then leave the mount behind)."""
    if os.path.ismount(path):
        return True
    target = os.path.abspath(path)
    with open("/proc/self/mounts") as f:
        for line in f:
            point = line.split()[1].encode().decode("unicode_escape")
            if point == target:
                return True
    return False


def sparse_tar(path, members):
    """A PAX tar of GNU 1.0 sparse members: (name, size, [(offset, bytes), ...])."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        for name, size, regions in members:
            data = b"".join(d for _, d in regions)
            sparse_map = f"{len(regions)}\n" + "".join(f"{o}\n{len(d)}\n" for o, d in regions)
            head = sparse_map.encode()
            head += b"\0" * (-len(head) % 512)
            ti = tarfile.TarInfo("GNUSparseFile.0/" + name)
            ti.size, ti.mode, ti.mtime = len(head) + len(data), 0o644, 1_700_000_000
            ti.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                              "GNU.sparse.name": name, "GNU.sparse.realsize": str(size)}
            tf.addfile(ti, io.BytesIO(head + data))
    return path


def build_tar(path, members, fmt=tarfile.GNU_FORMAT):
    """A tar at `path` of members: (name, kind, arg[, pax_headers]) with kind 'f' (arg=bytes), 'd', 'l'
    (arg=symlink target), 'h' (arg=hardlink target)."""
    with tarfile.open(path, "w", format=fmt) as tf:
        for m in members:
            name, kind, arg = m[:3]
            ti = tarfile.TarInfo(name)
            ti.mtime = 1_700_000_000
            if len(m) > 3:
                ti.pax_headers = dict(m[3])
            if kind == "f":
                ti.size, ti.mode = len(arg), 0o644
                tf.addfile(ti, io.BytesIO(arg))
                continue
            if kind == "d":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            elif kind == "l":
                ti.type, ti.linkname = tarfile.SYMTYPE, arg
            elif kind == "h":
                ti.type, ti.linkname = tarfile.LNKTYPE, arg
            tf.addfile(ti)
    return path


# ---- guards: a time limit per test, and no mount left behind --------------------------------

DEFAULT_TIMEOUT = 300
# After the limit, this long for the test to unwind before the run is ended with every thread's
# stack: a thread stuck in the kernel (a hung FUSE request) never sees the alarm.
HARD_GRACE = 60


class TimeLimitExceeded(Exception):
    """The test ran past its time limit."""


STACK_OUT = pytest.StashKey()  # the real stderr, which pytest's capture does not swallow


def pytest_configure(config):
    config.stash[STACK_OUT] = os.fdopen(os.dup(2), "w")
    config.addinivalue_line(
        "markers", "timeout(seconds): this test's time limit, setup and teardown included "
                   f"(default DCFS_TEST_TIMEOUT or {DEFAULT_TIMEOUT} s; 0: none)")


def time_limit_of(item) -> int:
    mark = item.get_closest_marker("timeout")
    if mark and mark.args:
        return int(mark.args[0])
    return int(os.environ.get("DCFS_TEST_TIMEOUT", DEFAULT_TIMEOUT))


def stack_dumper(out, limit):
    def on_alarm(signum, frame):
        out.write(f"\n+++ test time limit ({limit} s) reached; the stacks of all threads:\n")
        out.flush()
        faulthandler.dump_traceback(file=out, all_threads=True)
        raise TimeLimitExceeded(f"the test ran past its time limit of {limit} s "
                                "(@pytest.mark.timeout(N) raises it)")
    return on_alarm


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Arm the limit over setup, call and teardown: SIGALRM raises TimeLimitExceeded in the
    test (its subprocess.run kills the child), and a C-level watchdog dumps the stacks and ends
    the run HARD_GRACE seconds later if the alarm could not land."""
    limit = time_limit_of(item)
    if limit <= 0:
        yield
        return
    out = item.config.stash[STACK_OUT]
    old = signal.signal(signal.SIGALRM, stack_dumper(out, limit))
    signal.alarm(limit)
    faulthandler.dump_traceback_later(limit + HARD_GRACE, exit=True, file=out)
    try:
        yield
    finally:
        signal.alarm(0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, old)


LEFT_BEHIND_TYPES = ("fuse", "fuseblk", "overlay")
MNT_DETACH = 2


def _unescape(field: str) -> str:
    """A mountinfo path: spaces, tabs, newlines and backslashes come as octal escapes."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mounts_under(folder) -> list:
    """(mount point, file system type) of the FUSE and overlay mounts at or below `folder`, from
    /proc/self/mountinfo, deepest first."""
    top = os.path.realpath(folder)
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            point, fstype = _unescape(fields[4]), fields[sep + 1]
            if fstype.split(".")[0] not in LEFT_BEHIND_TYPES:
                continue
            if point == top or point.startswith(top.rstrip("/") + "/"):
                found.append((point, fstype))
    return sorted(found, key=lambda m: m[0].count("/"), reverse=True)


def unmount_lazily(point) -> str:
    """umount2(MNT_DETACH); "" or why it failed."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.umount2(point.encode(), MNT_DETACH) == 0:
        return ""
    return os.strerror(ctypes.get_errno())


def clear_mounts(left, who) -> None:
    """Unmount `left` (from mounts_under), then fail naming it: a leak is reported, not hidden."""
    if not left:
        return
    lines = []
    for point, fstype in left:
        err = unmount_lazily(point)
        lines.append(f"  {fstype} at {point}" + (f" (lazy unmount failed: {err})" if err else ""))
    pytest.fail(f"{who} left {len(left)} mount(s) behind (now unmounted lazily):\n"
                + "\n".join(lines), pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def no_mount_left_in_session(tmp_path_factory):
    """After the run: nothing mounted under its temporary folders (a module or session fixture
    that did not unmount)."""
    yield
    clear_mounts(mounts_under(tmp_path_factory.getbasetemp()), "the test session")


@pytest.fixture(scope="module", autouse=True)
def no_mount_left_in_module(request, tmp_path_factory):
    """After a module (and its fixtures' teardowns: this one is set up first, so torn down last):
    nothing newly mounted under the session's temporary folders. A module fixture may keep the
    mounts its tests made (test_hardlinks' env unmounts them all at its end)."""
    base = tmp_path_factory.getbasetemp()
    before = set(mounts_under(base))
    yield
    clear_mounts([m for m in mounts_under(base) if m not in before], request.node.nodeid)


@pytest.fixture(autouse=True)
def no_mount_left(request, tmp_path_factory):
    """After each test (and its other fixtures' teardowns, which run before this one's): nothing
    newly mounted under its own tmp_path. Mounts it made in a module fixture's folders are that
    fixture's to undo; no_mount_left_in_module checks them when the module ends."""
    if "tmp_path" not in request.fixturenames:
        yield
        return
    own = request.getfixturevalue("tmp_path")
    before = set(mounts_under(own))
    yield
    clear_mounts([m for m in mounts_under(own) if m not in before], request.node.nodeid)
