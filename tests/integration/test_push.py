"""`dcfs push` against a real registry (Debian's docker-registry on 127.0.0.1, see registry.py):
an imported tree (hardlinks, symlinks, xattrs, a fifo, a device when root, an empty file, a 3 MB
file, a 9 MB one that takes two upload chunks) pushed with zstd and with gzip layers and pulled
back under another name equals the original entry for entry; a pulled two-layer image with a
whiteout and an opaque directory survives a push; a second push uploads no blob; the manifest and
config are valid OCI (media types, digests and sizes match the blobs fetched back); a layer
pushed to one repository is mounted into another of the same registry; Basic auth
and a Bearer token of push scope; errors name the reference and the HTTP status."""
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
import urllib.error
import urllib.parse
import urllib.request

import pytest

from registry import OCI_CONFIG, OCI_MANIFEST, Registry, layer_tar
from registry_standin import BearerProxy

pytestmark = pytest.mark.skipif(not shutil.which("docker-registry"),
                                reason="docker-registry is not installed (tools/install-deps.sh)")

FIELDS = ("type", "mode", "uid", "gid", "mtime_ns", "size", "target", "rdev", "opaque", "xattrs")


@pytest.fixture
def registry(tmp_path):
    reg = Registry(tmp_path / "registry").start()
    yield reg
    reg.stop()


def make_tree(root):
    os.makedirs(root / "bin")
    os.makedirs(root / "etc/empty-dir")
    (root / "bin/tool").write_bytes(b"#!/bin/sh\necho tool\n")
    os.chmod(root / "bin/tool", 0o4755)
    os.link(root / "bin/tool", root / "bin/tool-again")
    os.link(root / "bin/tool", root / "aaa-link")  # sorts before its target
    (root / "etc/empty").write_bytes(b"")
    (root / "etc/big").write_bytes(os.urandom(3_000_000))
    (root / "usr/huge").parent.mkdir()
    (root / "usr/huge").write_bytes(os.urandom(9_000_000))  # more than one 8 MiB PATCH
    (root / "etc/conf").write_text("key = value\n")
    os.chmod(root / "etc/conf", 0o600)
    if os.geteuid() == 0:
        os.chown(root / "etc/conf", 1000, 1001)
    os.symlink("../etc/conf", root / "bin/conf-link")
    os.symlink("/nonexistent/abs", root / "dangling")
    os.setxattr(root / "etc/conf", "user.note", b"hello\0binary")
    os.setxattr(root / "etc/empty-dir", "user.dir", b"")
    os.mkfifo(root / "etc/fifo")
    if os.geteuid() == 0:
        os.mknod(root / "etc/null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    for i, p in enumerate(sorted(root.rglob("*"))):
        os.utime(p, ns=(1_600_000_000_000_000_000 + i * 1_000_000_123,) * 2,
                 follow_symlinks=False)
    os.utime(root, ns=(1_650_000_000_000_000_000,) * 2)


def entries(store, ref):
    out = {}
    for path, row in store.entries(ref).items():
        out[path] = {k: row[k] for k in FIELDS}
        if row["type"] == "f":
            out[path]["content"] = hashlib.sha256(store.entry_content(row)).hexdigest()
    return out


def blob_puts(reg):
    """Blob upload requests (POST, PATCH, PUT) the registry has logged."""
    return sum(1 for line in reg.log.read_text(errors="replace").splitlines()
               if any(f'"{m} /v2/' in line for m in ("POST", "PATCH", "PUT"))
               and "/blobs/" in line)


def blob_patches(reg):
    return sum(1 for line in reg.log.read_text(errors="replace").splitlines()
               if '"PATCH /v2/' in line and "/blobs/uploads/" in line)


def get(reg, path, accept=None):
    req = urllib.request.Request(f"http://{reg.host}{path}",
                                 headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read(), r.headers.get("Content-Type")


@pytest.fixture
def imported(dcfs, tmp_path):
    make_tree(tmp_path / "tree")
    dcfs("import", str(tmp_path / "tree"), "orig:1")
    return "orig:1"


@pytest.mark.parametrize("compression", ["zstd", "gzip"])
def test_push_then_pull_equals_the_original(dcfs, store, registry, imported, compression):
    ref = f"{registry.host}/push/test:{compression}"
    p = dcfs("push", "--compression", compression, imported, ref)
    assert "Pushed" in p.stdout
    assert blob_patches(registry) >= 3  # the layer in two chunks, the config in one
    dcfs("pull", ref)
    back = entries(store, ref)
    orig = entries(store, imported)
    assert back == orig
    assert sum(v["type"] == "h" for v in orig.values()) == 2
    assert orig["etc/conf"]["xattrs"] and orig["etc/big"]["size"] == 3_000_000

    manifest, ctype = get(registry, f"/v2/push/test/manifests/{compression}", OCI_MANIFEST)
    assert ctype == OCI_MANIFEST
    m = json.loads(manifest)
    assert m["schemaVersion"] == 2 and m["mediaType"] == OCI_MANIFEST
    assert m["config"]["mediaType"] == OCI_CONFIG
    want = f"application/vnd.oci.image.layer.v1.tar+{compression}"
    assert [l["mediaType"] for l in m["layers"]] == [want]
    for d in [m["config"]] + m["layers"]:
        blob, _ = get(registry, f"/v2/push/test/blobs/{d['digest']}")
        assert len(blob) == d["size"]
        assert "sha256:" + hashlib.sha256(blob).hexdigest() == d["digest"]
    config = json.loads(get(registry, f"/v2/push/test/blobs/{m['config']['digest']}")[0])
    assert config["os"] == "linux" and config["architecture"] == "amd64"
    assert config["rootfs"]["type"] == "layers" and len(config["rootfs"]["diff_ids"]) == 1


def test_second_push_uploads_no_blob(dcfs, registry, imported):
    ref = f"{registry.host}/push/again:1"
    dcfs("push", imported, ref)
    first = blob_puts(registry)
    assert first >= 2  # a layer and the config
    p = dcfs("push", imported, f"{registry.host}/push/again:2")
    assert blob_puts(registry) == first
    assert "0 blobs uploaded" in p.stdout


def test_push_to_another_repository_mounts_the_layer(dcfs, registry, imported):
    """A layer pushed to one repository goes to another repository of the same registry by a
    cross-repository mount: no PATCH carries its bytes again and the new repository serves it.
    When the registry lost the blob, the layer is written and uploaded again, to the same
    digest."""
    dcfs("push", imported, f"{registry.host}/team/one:1")
    patches = blob_patches(registry)
    p = dcfs("push", imported, f"{registry.host}/team/two:1")
    assert "1 mounted" in p.stdout
    assert blob_patches(registry) == patches + 1  # only the (small) config goes up again
    m = json.loads(get(registry, "/v2/team/two/manifests/1", OCI_MANIFEST)[0])
    layer = m["layers"][0]["digest"]
    blob = get(registry, f"/v2/team/two/blobs/{layer}")[0]
    assert "sha256:" + hashlib.sha256(blob).hexdigest() == layer

    hexd = layer.split(":")[1]
    shutil.rmtree(registry.dir / "data/docker/registry/v2/blobs/sha256" / hexd[:2] / hexd)
    p = dcfs("push", imported, f"{registry.host}/team/three:1")
    assert "0 mounted" in p.stdout
    m3 = json.loads(get(registry, "/v2/team/three/manifests/1", OCI_MANIFEST)[0])
    assert m3["layers"][0]["digest"] == layer
    blob = get(registry, f"/v2/team/three/blobs/{layer}")[0]
    assert "sha256:" + hashlib.sha256(blob).hexdigest() == layer
    assert "0 problems" in dcfs("fsck").stdout  # what the push remembered is a sound catalog


def test_multi_layer_image_with_whiteouts(dcfs, store, registry, tmp_path):
    """Pull a two-layer image with a whiteout and an opaque dir, push it elsewhere, pull it back."""
    l1 = layer_tar({"a": None, "a/x": b"x", "a/y": b"y", "b": None, "b/old": b"old"})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in ((".wh.b", b""), ("a/.wh..wh..opq", b""), ("a/z", b"zz")):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), 1700000000
            tf.addfile(ti, io.BytesIO(data))
    registry.push_image("src/img", "1", [l1, buf.getvalue()])
    dcfs("pull", f"{registry.host}/src/img:1")
    dcfs("push", f"{registry.host}/src/img:1", f"{registry.host}/dst/img:1")
    dcfs("pull", f"{registry.host}/dst/img:1")

    def merged(ref):
        rows = store.query("SELECT e.path, e.type, e.opaque FROM images i JOIN image_index x"
                           " ON x.image_id = i.id JOIN entries e ON e.layer_id = x.layer_id"
                           " AND e.path = x.path WHERE i.ref = ?", (ref,))
        return sorted((r["path"], r["type"], r["opaque"]) for r in rows)
    assert merged(f"{registry.host}/dst/img:1") == merged(f"{registry.host}/src/img:1")
    paths = [p for p, _, _ in merged(f"{registry.host}/dst/img:1")]
    assert "a/z" in paths and "a/x" not in paths and "b/old" not in paths


def test_push_errors_name_the_ref(dcfs, registry):
    p = dcfs("push", "no-such-image:1", f"{registry.host}/x/y:1", check=False)
    assert p.returncode == 1
    assert f"{registry.host}/x/y:1" in p.stderr and "no-such-image" in p.stderr
    p = dcfs("push", "--compression", "xz", "a", "b", check=False)
    assert p.returncode == 2


@pytest.mark.skipif(not shutil.which("htpasswd"), reason="htpasswd is not installed")
def test_basic_auth(dcfs, store, imported, tmp_path):
    htpasswd = tmp_path / "htpasswd"
    subprocess.run(["htpasswd", "-Bbc", str(htpasswd), "dev", "s3cret"], check=True,
                   capture_output=True)
    reg = Registry(tmp_path / "auth-registry", htpasswd=htpasswd).start()
    try:
        ref = f"{reg.host}/private/img:1"
        p = dcfs("push", imported, ref, check=False, env={"HOME": str(tmp_path)})
        assert p.returncode == 1
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and ref in lines[0] and "HTTP 401" in lines[0], p.stderr
        dcfs("push", imported, ref, env={"DCFS_REGISTRY_AUTH": "dev:s3cret"})
        dcfs("pull", ref, env={"DCFS_REGISTRY_AUTH": "dev:s3cret"})
        assert entries(store, ref) == entries(store, imported)
    finally:
        reg.stop()


def test_bearer_token_with_push_scope(dcfs, store, registry, imported):
    with BearerProxy(registry.host) as proxy:
        ref = f"{proxy.host}/tok:v1"
        dcfs("push", imported, ref)
        assert "repository:tok:pull,push" in proxy.scopes
        dcfs("pull", ref)
        assert entries(store, ref) == entries(store, imported)
