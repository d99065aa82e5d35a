"""`dcfs pull` against a real registry (Debian's docker-registry on 127.0.0.1, see registry.py):
tag and digest pulls, plain, gzip and zstd layers, several layers with a whiteout, an index with
two platforms, errors (unknown tag, a blob that does not match its digest), no second download
of a stored layer, and Basic and Bearer authentication. Gzip layers: several members, and
corrupt, truncated or followed by other data (a one-line error naming the layer, nothing stored);
a refused entry ends the pull at once even while the download stalls."""
import gzip
import io
import json
import os
import shutil
import subprocess
import threading

import pytest

from registry import OCI_INDEX, OCI_LAYER, Registry, digest, layer_tar
from registry_standin import BearerProxy, FlakyProxy, StallProxy

FILES = {"bin": None, "bin/hello": b"#!/bin/sh\necho hello\n", "etc": None,
         "etc/os-release": b"NAME=dcfs-test\n", "etc/big": os.urandom(300_000),
         "lib": ("symlink", "usr/lib"), "usr": None, "usr/lib": None}


pytestmark = pytest.mark.skipif(not shutil.which("docker-registry"),
                                reason="docker-registry is not installed (tools/install-deps.sh)")


@pytest.fixture
def registry(tmp_path):
    reg = Registry(tmp_path / "registry").start()
    yield reg
    reg.stop()


def merged(store, ref) -> dict:
    """path -> entry row of the image's merged view (its index over all its layers)."""
    rows = store.query("SELECT e.* FROM images i JOIN image_index x ON x.image_id = i.id"
                       " JOIN entries e ON e.layer_id = x.layer_id AND e.path = x.path"
                       " WHERE i.ref = ?", (ref,))
    return {r["path"]: r for r in rows}


def assert_files(store, ref, files):
    view = merged(store, ref)
    for path, data in files.items():
        assert path in view, f"{path} missing from {ref}"
        row = view[path]
        if data is None:
            assert row["type"] == "d"
        elif isinstance(data, tuple):
            assert row["type"] == "l" and row["target"] == data[1]
        else:
            assert row["type"] == "f" and store.entry_content(row) == data, path
    return view


def pull(dcfs, *args, check=True, env=None):
    p = dcfs("pull", "--json", *args, check=check, env=env)
    events = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return p, events


@pytest.mark.parametrize("compress,layer_type", [
    (None, OCI_LAYER), ("gzip", OCI_LAYER + "+gzip"), ("zstd", OCI_LAYER + "+zstd"),
    ("gzip", "application/vnd.docker.image.rootfs.diff.tar.gzip")])
def test_pull_tag(dcfs, store, registry, compress, layer_type):
    mdigest, cfg, _ = registry.push_image("team/app", "v1", [layer_tar(FILES, compress)],
                                          layer_type=layer_type)
    p, events = pull(dcfs, f"{registry.host}/team/app:v1")
    ref = f"{registry.host}/team/app:v1"
    assert events[-1]["event"] == "pulled" and events[-1]["digest"] == mdigest
    assert events[-1]["ref"] == ref
    assert_files(store, ref, FILES)
    img = store.query("SELECT * FROM images WHERE ref = ?", (ref,))[0]
    assert img["config"] == cfg.decode() and img["digest"] == digest(cfg)
    conf = json.loads(img["config"])["config"]
    assert conf["WorkingDir"] == "/work" and "devcontainer.metadata" in conf["Labels"]
    sources = [r["source"] for r in store.query("SELECT source FROM layers")]
    assert sources == ["blob:" + digest(layer_tar(FILES, compress))]
    dcfs("fsck")


def test_pull_digest_and_second_pull_downloads_nothing(dcfs, store, registry):
    mdigest, _, _ = registry.push_image("app", "v1", [layer_tar(FILES, "gzip")])
    _, events = pull(dcfs, f"{registry.host}/app@{mdigest}")
    assert_files(store, f"{registry.host}/app@{mdigest}", FILES)
    assert events[-1]["downloadedBytes"] > 0
    gets = registry.blob_gets()
    _, events = pull(dcfs, f"{registry.host}/app:v1")
    layer_events = [e for e in events if e["event"] == "layer"]
    assert [e["cached"] for e in layer_events] == [True]
    assert events[-1]["downloadedBytes"] == 0
    assert registry.blob_gets() == gets  # not even the config: the store has its bytes
    assert store.scalar("SELECT count(*) FROM layers") == 1
    assert sorted(dcfs.images()) and store.scalar("SELECT count(*) FROM images") == 2


def test_two_layers_with_whiteout(dcfs, store, registry):
    lower = layer_tar({"a": None, "a/keep": b"keep", "a/gone": b"gone", "old": None,
                       "old/x": b"x"}, "gzip")
    upper = layer_tar({"a": None, "a/.wh.gone": b"", "old": None, "old/.wh..wh..opq": b"",
                       "old/y": b"y", "new": b"new"}, "zstd")
    registry.push_image("layers", "latest", [(lower, OCI_LAYER + "+gzip"),
                                              (upper, OCI_LAYER + "+zstd")])
    pull(dcfs, f"{registry.host}/layers")
    ref = f"{registry.host}/layers:latest"
    view = assert_files(store, ref, {"a/keep": b"keep", "old/y": b"y", "new": b"new"})
    assert "a/gone" not in view and "old/x" not in view
    assert store.scalar("SELECT count(*) FROM image_layers il JOIN images i ON i.id = il.image_id"
                        " WHERE i.ref = ?", (ref,)) == 2


def test_index_picks_linux_amd64(dcfs, store, registry):
    arm, _, arm_body = registry.push_image("multi", "arm", [layer_tar({"arch": b"arm64"})],
                                           arch="arm64")
    amd, _, amd_body = registry.push_image("multi", "amd", [layer_tar({"arch": b"amd64"})])
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm,
         "size": len(arm_body), "platform": {"os": "linux", "architecture": "arm64"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd,
         "size": len(amd_body), "platform": {"os": "linux", "architecture": "amd64"}}]}
    registry.push_manifest("multi", "both", json.dumps(index).encode(), OCI_INDEX)
    _, events = pull(dcfs, f"{registry.host}/multi:both")
    assert events[-1]["digest"] == amd
    assert_files(store, f"{registry.host}/multi:both", {"arch": b"amd64"})


def test_unknown_tag(dcfs, store, registry):
    registry.push_image("app", "v1", [layer_tar(FILES)])
    p = dcfs("pull", f"{registry.host}/app:nope", check=1)
    assert p.stderr.strip().count("\n") == 0
    assert f"{registry.host}/app:nope" in p.stderr and "manifest unknown" in p.stderr
    assert "404" in p.stderr
    assert store.scalar("SELECT count(*) FROM images") == 0


def test_blob_not_matching_its_digest(dcfs, store, registry):
    layer = layer_tar(FILES)
    registry.push_image("bad", "v1", [layer])
    path = registry.blob_path(digest(layer))
    evil = layer_tar(dict(FILES, **{"etc/os-release": b"NAME=dcfs-evil\n"}))
    assert len(evil) == len(layer)
    path.write_bytes(evil)
    p = dcfs("pull", f"{registry.host}/bad:v1", check=1)
    assert p.stderr.strip().count("\n") == 0
    assert f"layer {digest(layer)}: blob does not match its digest (got {digest(evil)})" \
        in p.stderr
    counts = store.counts()
    assert counts["images"] == 0 and counts["layers"] == 0 and counts["entries"] == 0
    assert store.chunk_files() == {} and store.tmp_leftovers() == []
    dcfs("fsck")


BIG = {"data": None, "data/random": os.urandom(5_000_000),
       "data/zeros": bytes(3_000_000), "data/text": b"dcfs pull\n" * 200_000}


def gzip_member(data: bytes, name=None) -> bytes:
    """One gzip member; with `name`, its header carries a file name (FNAME), as gzip(1) writes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name or "", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def test_multi_member_gzip_layer(dcfs, store, registry):
    """A layer of three gzip members (as pigz or `cat a.gz b.gz` make) is their concatenation,
    big enough to go round the inflater's buffers several times."""
    files = dict(FILES, **BIG)
    raw = layer_tar(files)
    cuts = [0, 1234567, len(raw) - 700, len(raw)]
    layer = b"".join(gzip_member(raw[a:b], name="part%d.tar" % i if i == 1 else None)
                     for i, (a, b) in enumerate(zip(cuts, cuts[1:])))
    registry.push_image("multi", "v1", [layer], layer_type=OCI_LAYER + "+gzip")
    pull(dcfs, f"{registry.host}/multi:v1")
    assert_files(store, f"{registry.host}/multi:v1", files)
    dcfs("fsck")


def assert_nothing_stored(dcfs, store):
    counts = store.counts()
    assert counts["images"] == 0 and counts["layers"] == 0 and counts["entries"] == 0
    assert store.chunk_files() == {} and store.tmp_leftovers() == []
    dcfs("fsck")


def flip_byte(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x55]) + data[at + 1:]


@pytest.mark.parametrize("damage,message", [
    ("flip", "corrupt gzip stream: "),
    ("block", "corrupt gzip stream: invalid"),
    ("truncate", "corrupt gzip stream: it ends inside member 1 (truncated)"),
    ("trailing", "corrupt gzip stream: the data after member 1 is not gzip"),
    ("crc", "corrupt gzip stream: "),
])
def test_corrupt_gzip_layer(dcfs, store, registry, damage, message):
    """A gzip layer whose bytes match their digest but do not inflate: one line naming the layer
    and what is wrong, and nothing of it left in the store."""
    good = layer_tar(dict(FILES, **BIG), "gzip")
    if damage == "flip":
        layer = flip_byte(good, len(good) - 3000)  # one byte near the end
    elif damage == "block":  # the first deflate block's type becomes the reserved one
        layer = good[:10] + bytes([good[10] | 6]) + good[11:]
    elif damage == "truncate":
        layer = good[:len(good) - 5000]
    elif damage == "trailing":
        layer = good + b"this is not gzip"
    else:  # the deflate data is whole, its CRC-32 is not
        layer = flip_byte(good, len(good) - 6)
    registry.push_image("broken", "v1", [layer], layer_type=OCI_LAYER + "+gzip")
    p = dcfs("pull", f"{registry.host}/broken:v1", check=1)
    assert p.stderr.strip().count("\n") == 0, p.stderr
    assert f"layer {digest(layer)}: {message}" in p.stderr, p.stderr
    assert_nothing_stored(dcfs, store)


def test_corrupt_gzip_download_blames_the_digest(dcfs, store, registry):
    """Gzip bytes damaged on the way (the registry's copy differs from what the manifest names):
    the error is the digest mismatch, the cause, not the inflater's complaint."""
    layer = layer_tar(dict(FILES, **BIG), "gzip")
    registry.push_image("damaged", "v1", [layer], layer_type=OCI_LAYER + "+gzip")
    bad = flip_byte(layer, len(layer) // 3)
    registry.blob_path(digest(layer)).write_bytes(bad)
    p = dcfs("pull", f"{registry.host}/damaged:v1", check=1)
    assert p.stderr.strip().count("\n") == 0, p.stderr
    assert f"layer {digest(layer)}: blob does not match its digest (got {digest(bad)})" \
        in p.stderr, p.stderr
    assert_nothing_stored(dcfs, store)


def test_bad_entry_fails_at_once_while_the_download_stalls(dcfs, store, registry):
    """The layer's first entry is refused while the rest of it is slow to come: the pull stops
    at once with the entry's error instead of waiting on the network."""
    raw = layer_tar({"../escape": b"x", "data": None, "data/random": os.urandom(2_000_000)})
    layer = gzip.compress(raw, mtime=0)
    registry.push_image("stall", "v1", [layer], layer_type=OCI_LAYER + "+gzip")
    with StallProxy(registry.host, head=200_000) as proxy:
        p = dcfs("pull", f"{proxy.host}/stall:v1", check=1)
        # the pull ended while the download was still stalled, not when the stall gave up
        assert not proxy.stall_expired
    assert p.stderr.strip().count("\n") == 0, p.stderr
    assert f"layer {digest(layer)}: " in p.stderr and "escapes the root" in p.stderr, p.stderr
    assert_nothing_stored(dcfs, store)


def test_slow_registry_reports_progress(dcfs, store, registry):
    """From a slow registry the pull succeeds and --json reports the layer's progress: bytes
    growing toward the blob's size, then the verified layer."""
    layer = gzip.compress(layer_tar({"data": None, "data/random": os.urandom(1_500_000)}),
                          mtime=0)
    registry.push_image("slow", "v1", [layer], layer_type=OCI_LAYER + "+gzip")
    with StallProxy(registry.host, slow=True) as proxy:
        p, events = pull(dcfs, f"{proxy.host}/slow:v1")
    progress = [e for e in events if e["event"] == "progress"]
    assert len(progress) >= 2, events
    got = [e["downloadedBytes"] for e in progress]
    assert got == sorted(got) and 0 < got[-1] <= len(layer)
    assert all(e["size"] == len(layer) and e["digest"] == digest(layer) for e in progress)
    done = [e for e in events if e["event"] == "layer"]
    assert len(done) == 1 and done[0]["downloadedBytes"] == len(layer)
    assert events.index(done[0]) > events.index(progress[-1])


@pytest.mark.skipif(not shutil.which("htpasswd"), reason="htpasswd (apache2-utils) is not installed")
def test_basic_auth(dcfs, store, tmp_path):
    htpasswd = tmp_path / "htpasswd"
    subprocess.run(["htpasswd", "-Bbc", str(htpasswd), "dev", "s3cret"], check=True,
                   capture_output=True)
    reg = Registry(tmp_path / "registry", htpasswd=htpasswd).start()
    try:
        reg.auth = "dev:s3cret"
        reg.push_image("private", "v1", [layer_tar(FILES, "gzip")])
        ref = f"{reg.host}/private:v1"
        p = dcfs("pull", ref, check=1, env={"HOME": str(tmp_path)})
        assert "authentication failed" in p.stderr and "401" in p.stderr
        dcfs("pull", ref, env={"DCFS_REGISTRY_AUTH": "dev:s3cret"})
        assert_files(store, ref, FILES)
        (tmp_path / ".docker").mkdir()
        import base64
        auth = base64.b64encode(b"dev:s3cret").decode()
        (tmp_path / ".docker/config.json").write_text(
            json.dumps({"auths": {reg.host: {"auth": auth}}}))
        dcfs("rmi", ref)
        dcfs("pull", ref, env={"HOME": str(tmp_path)})
        assert_files(store, ref, FILES)
    finally:
        reg.stop()


def test_bearer_token(dcfs, store, registry):
    registry.push_image("tok", "v1", [layer_tar(FILES, "gzip")])
    with BearerProxy(registry.host) as proxy:
        ref = f"{proxy.host}/tok:v1"
        dcfs("pull", ref)
        assert_files(store, ref, FILES)
        assert proxy.token_requests
        assert "service=dcfs-test" in proxy.token_requests[0]
        assert "scope=repository%3Atok%3Apull" in proxy.token_requests[0]


def test_localhost_name_and_hub_defaults_parse(dcfs, store, registry):
    registry.push_image("library/plain", "latest", [layer_tar(FILES)])
    port = registry.port
    dcfs("pull", f"localhost:{port}/library/plain")
    assert_files(store, f"localhost:{port}/library/plain:latest", FILES)
    p = dcfs("pull", "not a ref", check=1)
    assert "invalid reference" in p.stderr


@pytest.mark.parametrize("ignore_range", [False, True])
def test_retry_and_resume(dcfs, store, registry, ignore_range):
    layer = layer_tar(FILES, "gzip")
    registry.push_image("flaky", "v1", [layer])
    with FlakyProxy(registry.host, ignore_range) as proxy:
        ref = f"{proxy.host}/flaky:v1"
        _, events = pull(dcfs, ref)
        assert_files(store, ref, FILES)
        assert events[-1]["downloadedBytes"] == len(layer)
        ranges = [r for p, r in proxy.seen if digest(layer) in p]
        assert ranges[0] is None and ranges[1] == f"bytes={len(layer) // 2}-", proxy.seen


def test_many_layers_keep_their_order(dcfs, store, registry):
    """Layers download in parallel but stack in manifest order: the top one wins."""
    layers = [layer_tar({"f": str(i).encode(), f"only{i}": os.urandom(50_000)}, "gzip")
              for i in range(6)]
    registry.push_image("stack", "v1", layers, layer_type=OCI_LAYER + "+gzip")
    _, events = pull(dcfs, f"{registry.host}/stack:v1")
    ref = f"{registry.host}/stack:v1"
    assert_files(store, ref, {"f": b"5"})
    assert all(f"only{i}" in merged(store, ref) for i in range(6))
    assert sorted(e["index"] for e in events if e["event"] == "layer") == list(range(6))
    sources = store.query("SELECT l.source FROM image_layers il JOIN layers l"
                          " ON l.id = il.layer_id ORDER BY il.pos")
    assert [r["source"] for r in sources] == ["blob:" + digest(l) for l in layers]
    dcfs("fsck")


REPO_TOOLS = os.path.join(os.path.dirname(__file__), "..", "..", "tools")


@pytest.mark.skipif(not os.path.exists("/bin/busybox"), reason="busybox-static is not installed")
def test_busybox_equals_its_import(dcfs, store, registry, tmp_path):
    """A busybox root pushed as a gzip layer pulls into the same tree `dcfs import` makes."""
    root = tmp_path / "rootfs"
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    subprocess.run([os.path.join(REPO_TOOLS, "make-busybox-rootfs.sh"), str(root)], check=True,
                   env=env, capture_output=True)
    tar = subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-czf", "-", "."],
                         check=True, capture_output=True).stdout
    registry.push_image("busybox", "latest", [tar], layer_type=OCI_LAYER + "+gzip")
    dcfs("pull", f"{registry.host}/busybox")
    dcfs("import", root, "local-busybox")
    cols = ("type", "mode", "uid", "gid", "size", "target", "rdev", "blob_id", "mtime_ns")
    pulled = {p: tuple(r[c] for c in cols)
              for p, r in merged(store, f"{registry.host}/busybox:latest").items()}
    imported = {p: tuple(r[c] for c in cols) for p, r in merged(store, "local-busybox:latest").items()}
    assert len(pulled) > 100 and pulled == imported


def test_blob_longer_than_the_manifest_says(dcfs, store, registry):
    layer = layer_tar(FILES, "gzip")
    _, cfg, body = registry.push_image("long", "v1", [layer])
    manifest = json.loads(body)
    manifest["layers"][0]["size"] = len(layer) // 2
    registry.push_manifest("long", "short", json.dumps(manifest).encode())
    p = dcfs("pull", f"{registry.host}/long:short", check=1)
    assert f"blob is larger than its {len(layer) // 2} bytes" in p.stderr
    assert store.counts()["layers"] == 0


def first_bytes_sent(dcfs, ref, *flags):
    """Run `dcfs pull FLAGS REF` against a listener on 127.0.0.1 that records what the client
    sends first (a TLS ClientHello starts with 0x16, plain HTTP with "GET") and answers plain
    HTTP with 404."""
    import socket
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    got, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data and not data.startswith(b"\x16"):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                got.append(data[:3])
                if data.startswith(b"GET"):
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                pass
            conn.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        dcfs("pull", *flags, ref.format(port=port), check=1, timeout=60)
    finally:
        stop.set()
        t.join(5)
        srv.close()
    return got[0] if got else b""


def test_https_unless_loopback_or_insecure(dcfs):
    import socket
    name = socket.gethostname()
    try:
        addr = socket.gethostbyname(name)
    except OSError:
        addr = ""
    if not addr.startswith("127.") or name != name.lower() or "." in name:
        pytest.skip("the host name does not resolve to a loopback address")
    assert first_bytes_sent(dcfs, name + ":{port}/x")[:1] == b"\x16"
    assert first_bytes_sent(dcfs, name + ":{port}/x", "--insecure") == b"GET"
    assert first_bytes_sent(dcfs, "127.0.0.1:{port}/x") == b"GET"
    assert first_bytes_sent(dcfs, "localhost:{port}/x") == b"GET"
