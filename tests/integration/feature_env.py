"""Serving Dev Container Features to the tests: `pack` makes a feature's tarball as
`devcontainer features package` does (a tar of the folder's contents, entries "./",
"./devcontainer-feature.json", ...), `push_feature` publishes it to a registry as the reference
CLI does (an OCI artifact: an empty `{}` config of type application/vnd.devcontainers, one layer
of type application/vnd.devcontainers.layer.v1+tar named "devcontainer-feature-ID.tgz"), with
urllib over the distribution API, and `TarballServer` serves tarballs on 127.0.0.1 for the
tarball-URL form. Run the registry with registry.py's `Registry`.
"""
import base64
import gzip
import hashlib
import http.server
import io
import json
import os
import tarfile
import threading
import urllib.request
from pathlib import Path

FEATURE_CONFIG = "application/vnd.devcontainers"
FEATURE_LAYER = "application/vnd.devcontainers.layer.v1+tar"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _add(tf: tarfile.TarFile, path: Path, name: str):
    ti = tf.gettarinfo(str(path), arcname=name)
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.mtime = 1700000000
    if ti.isfile():
        with open(path, "rb") as f:
            tf.addfile(ti, f)
    else:
        tf.addfile(ti)
    if path.is_dir() and not path.is_symlink():
        for child in sorted(os.listdir(path)):
            _add(tf, path / child, f"{name.rstrip('/')}/{child}")


def pack(folder, compress: bool = False) -> bytes:
    """The folder's contents as a tar (gzip'd when `compress`): "./" first, then every entry
    under it in name order, devcontainer-feature.json at the top as the folder has it."""
    folder = Path(folder)
    if not (folder / "devcontainer-feature.json").is_file():
        raise ValueError(f"{folder} has no devcontainer-feature.json")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        _add(tf, folder, "./")
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw


def _base(registry) -> tuple:
    """(base URL, Authorization header or None) of a Registry, "host:port" or URL."""
    if hasattr(registry, "host"):
        auth = getattr(registry, "auth", None)
        header = "Basic " + base64.b64encode(auth.encode()).decode() if auth else None
        return f"http://{registry.host}", header
    url = str(registry)
    return (url if url.startswith("http") else f"http://{url}").rstrip("/"), None


def _request(base, auth, method, url, data=None, headers=None):
    if not url.startswith("http"):
        url = base + url
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if auth:
        req.add_header("Authorization", auth)
    return urllib.request.urlopen(req, timeout=30)


def _push_blob(base, auth, repo, data: bytes) -> str:
    d = digest(data)
    r = _request(base, auth, "POST", f"/v2/{repo}/blobs/uploads/")
    loc = r.headers["Location"]
    if not loc.startswith("http"):
        loc = base + loc
    sep = "&" if "?" in loc else "?"
    _request(base, auth, "PUT", f"{loc}{sep}digest={d}", data=data,
             headers={"Content-Type": "application/octet-stream"})
    return d


def push_feature(registry, repo: str, tag: str, folder, layer: bytes = None) -> str:
    """Publish the feature in `folder` (or the tarball `layer`) as `repo:tag` on `registry` (a
    registry.Registry, "127.0.0.1:PORT" or "http://127.0.0.1:PORT"); returns the manifest's
    digest. The layer's digest is digest(pack(folder))."""
    base, auth = _base(registry)
    data = layer if layer is not None else pack(folder)
    fid = json.loads((Path(folder) / "devcontainer-feature.json").read_text()).get("id", "x") \
        if folder else "x"
    config = b"{}"
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": FEATURE_CONFIG, "digest": _push_blob(base, auth, repo, config),
                   "size": len(config)},
        "layers": [{"mediaType": FEATURE_LAYER, "digest": _push_blob(base, auth, repo, data),
                    "size": len(data),
                    "annotations": {"org.opencontainers.image.title":
                                    f"devcontainer-feature-{fid}.tgz"}}],
        "annotations": {"com.github.package.type": "devcontainer_feature"},
    }
    body = json.dumps(manifest).encode()
    _request(base, auth, "PUT", f"/v2/{repo}/manifests/{tag}", data=body,
             headers={"Content-Type": OCI_MANIFEST})
    return digest(body)


class TarballServer:
    """Serves `files` (URL path -> bytes, changeable while it runs) on 127.0.0.1 over plain
    HTTP on a free port; other paths are 404. `requests` lists the paths asked for.

        with TarballServer({"/f.tgz": pack(folder)}) as srv:
            url = srv.url("/f.tgz")
    """

    def __init__(self, files: dict = None):
        self.files = dict(files or {})
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread:
            self.thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
