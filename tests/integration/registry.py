"""A throwaway OCI registry for the pull tests, and helpers to push images to it.

`Registry` runs Debian's `docker-registry` on 127.0.0.1 with its own config (the packaged one
listens on every interface and turns on auth), on a free port, storing into a temporary
folder; optionally behind htpasswd Basic auth. Images are pushed with urllib through the
distribution API (monolithic blob uploads, manifest PUTs), so every byte is under the test's
control. `layer_tar` builds a layer from a dict of paths.
"""
import base64
import gzip
import hashlib
import io
import json
import os
import socket
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    def __init__(self, workdir: Path, htpasswd: Path = None):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.auth = None  # "user:password" for pushes when htpasswd is set
        config = (f"version: 0.1\nlog:\n  level: info\n"
                  f"storage:\n  filesystem:\n    rootdirectory: {self.dir / 'data'}\n"
                  f"  delete:\n    enabled: true\n"
                  f"http:\n  addr: {self.host}\n")
        if htpasswd:
            config += f"auth:\n  htpasswd:\n    realm: dcfs-test\n    path: {htpasswd}\n"
        self.config = self.dir / "config.yml"
        self.config.write_text(config)
        self.log = self.dir / "registry.log"
        self.proc = None

    def start(self):
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(["docker-registry", "serve", str(self.config)],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1)
                return self
            except urllib.error.HTTPError:
                return self  # 401 with auth on: it is up
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not start:\n{self.log.read_text()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # ---- pushing ------------------------------------------------------------------------

    def _request(self, method, url, data=None, headers=None):
        if not url.startswith("http"):
            url = f"http://{self.host}{url}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if self.auth:
            req.add_header("Authorization",
                           "Basic " + base64.b64encode(self.auth.encode()).decode())
        return urllib.request.urlopen(req, timeout=30)

    def push_blob(self, repo: str, data: bytes) -> str:
        d = digest(data)
        r = self._request("POST", f"/v2/{repo}/blobs/uploads/")
        loc = r.headers["Location"]
        if not loc.startswith("http"):
            loc = f"http://{self.host}{loc}"
        sep = "&" if "?" in loc else "?"
        self._request("PUT", f"{loc}{sep}digest={d}", data=data,
                      headers={"Content-Type": "application/octet-stream"})
        return d

    def push_manifest(self, repo: str, ref: str, body: bytes, media_type=OCI_MANIFEST) -> str:
        self._request("PUT", f"/v2/{repo}/manifests/{ref}", data=body,
                      headers={"Content-Type": media_type})
        return digest(body)

    def push_image(self, repo, tag, layers, config=None, layer_type=OCI_LAYER, arch="amd64"):
        """Push `layers` (bytes, already compressed as `layer_type` says; or (bytes, type)
        pairs) with an OCI config; returns (manifest digest, config bytes, manifest bytes)."""
        layers = [l if isinstance(l, tuple) else (l, layer_type) for l in layers]
        cfg = config or {"architecture": arch, "os": "linux",
                         "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"],
                                    "WorkingDir": "/work", "User": "1000",
                                    "Labels": {"devcontainer.metadata": '[{"remoteUser":"dev"}]'}},
                         "rootfs": {"type": "layers", "diff_ids": []}}
        cfg_bytes = json.dumps(cfg).encode()
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": OCI_CONFIG, "digest": self.push_blob(repo, cfg_bytes),
                               "size": len(cfg_bytes)},
                    "layers": [{"mediaType": t, "digest": self.push_blob(repo, data),
                                "size": len(data)} for data, t in layers]}
        body = json.dumps(manifest).encode()
        return self.push_manifest(repo, tag, body), cfg_bytes, body

    def blob_path(self, d: str) -> Path:
        hexd = d.split(":", 1)[1]
        return self.dir / "data/docker/registry/v2/blobs/sha256" / hexd[:2] / hexd / "data"

    def blob_gets(self) -> int:
        """How many blob GETs the registry has logged."""
        return sum(1 for line in self.log.read_text(errors="replace").splitlines()
                   if '"GET /v2/' in line and "/blobs/sha256:" in line)


def layer_tar(files: dict, compress=None) -> bytes:
    """A tar of `files` (path -> bytes, or None for a directory, or ("symlink", target)),
    optionally compressed with "gzip" or "zstd"."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for path, data in files.items():
            ti = tarfile.TarInfo(path)
            ti.mtime = 1700000000
            ti.uid = ti.gid = 0
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            elif isinstance(data, tuple):
                ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, data[1], 0o777
                tf.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o644
                tf.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    if compress == "gzip":
        return gzip.compress(raw, mtime=0)
    if compress == "zstd":
        return subprocess.run(["zstd", "-q", "-c"], input=raw, capture_output=True,
                              check=True).stdout
    return raw
