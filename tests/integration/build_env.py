"""Helpers for the tests (and tools/bench/build) of Dockerfile configurations: a real podman with
a private storage, a base image on the loopback registry, PATHs without builders, and the files
and config of an image as the builder and as dcfs see them.

  PrivatePodman(folder)        podman with its own storage.conf (driver overlay, graphroot in
                               `folder`, a short runroot in /tmp) and containers.conf (runc,
                               cgroupfs, host network, the host's rlimits): `env` holds the
                               CONTAINERS_* variables to hand to dcfs, which hands its
                               environment to the builder; run(...) runs podman with them
  push_base(dcfs, registry)    a busybox rootfs imported with `dcfs import`, pushed with
                               `dcfs push`
  path_without(folder, names)  a PATH of one folder of links to every command but `names`
  export_files(tar)            path -> (type, mode, uid, gid, size, sha256, symlink target)
  tree_files(root)             the same for a folder (a `dcfs mount` of an image)
  image_config(config)         the fields of an image config the tests compare
"""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
from pathlib import Path


CONTAINERS_CONF = """[containers]
netns = "host"
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""

BUILDERS = ("podman", "buildah", "docker")
CONFIG_FIELDS = ("Env", "User", "WorkingDir", "Cmd", "Entrypoint", "Labels")


class PrivatePodman:
    """podman on a storage of its own under `folder` (its layer cache starts empty)."""

    def __init__(self, folder, insecure=None):
        self.dir = Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.graphroot = self.dir / "graph"
        # podman wants a short runroot (< 50 characters): tmp_path is too long
        self.runroot = Path(tempfile.mkdtemp(prefix="dcfs-pb-"))
        storage = self.dir / "storage.conf"
        storage.write_text(f'[storage]\ndriver = "overlay"\ngraphroot = "{self.graphroot}"\n'
                           f'runroot = "{self.runroot}"\n')
        conf = self.dir / "containers.conf"
        conf.write_text(CONTAINERS_CONF)
        self.env = {"CONTAINERS_STORAGE_CONF": str(storage), "CONTAINERS_CONF": str(conf)}
        if insecure:
            self.env["CONTAINERS_REGISTRIES_CONF"] = str(registries_conf(self.dir, insecure))

    def run(self, *args, check=True, timeout=600, env=None):
        p = subprocess.run(["podman", *[str(a) for a in args]], capture_output=True, text=True,
                           errors="replace", env=dict(os.environ, **self.env, **(env or {})),
                           timeout=timeout, stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"podman {' '.join(map(str, args))}: exit {p.returncode}\n"
                                 f"{p.stdout}{p.stderr}")
        return p

    def images(self) -> list:
        return json.loads(self.run("images", "--format", "json").stdout or "[]")

    def inspect(self, image) -> dict:
        return json.loads(self.run("image", "inspect", image).stdout)[0]

    def export(self, image, tar_path):
        """`podman create` + `podman export` of `image` into `tar_path`."""
        cid = self.run("create", image, "true").stdout.strip()
        try:
            self.run("export", "-o", tar_path, cid)
        finally:
            self.run("rm", "-f", cid, check=False)
        return tar_path

    def close(self):
        self.run("rm", "-a", "-f", check=False)
        self.run("rmi", "-a", "-f", check=False)
        for base in (self.graphroot, self.runroot):
            umount_under(base)
        shutil.rmtree(self.graphroot, ignore_errors=True)
        shutil.rmtree(self.runroot, ignore_errors=True)


def registries_conf(folder, hosts) -> Path:
    """A registries.conf that lets podman reach `hosts` ("127.0.0.1:PORT", ...) over HTTP."""
    f = Path(folder) / "registries.conf"
    f.write_text('unqualified-search-registries = []\n' + "".join(
        f'\n[[registry]]\nlocation = "{h}"\ninsecure = true\n' for h in hosts))
    return f


def umount_under(folder):
    """Unmount (lazily) whatever podman left mounted at or below `folder`."""
    top = os.path.realpath(folder)
    with open("/proc/self/mounts") as f:
        points = [line.split()[1] for line in f]
    for p in sorted(points, key=len, reverse=True):
        if p == top or p.startswith(top + "/"):
            subprocess.run(["umount", "-l", p], capture_output=True)


# ---- the base image ----------------------------------------------------------------------------


def push_base(dcfs, registry, rootfs, ref_path="dcfs/busybox", tag="1"):
    """Import `rootfs` (tools/make-busybox-rootfs.sh) with `dcfs import` and push it with `dcfs
    push` to `registry`: returns the image's reference. (Its config's history counts its layer:
    podman 4.3 fails a RUN after an ARG or ENV over an image whose history does not.)"""
    ref = f"{registry.host}/{ref_path}:{tag}"
    dcfs("import", rootfs, "busybox:build-base")
    dcfs("push", "busybox:build-base", ref)
    return ref


# ---- PATHs without builders --------------------------------------------------------------------


def path_without(folder, names=BUILDERS) -> str:
    """A folder of links to every command on PATH but `names`, made in `folder`: its path, to
    use as PATH (podman and docker live in different folders here, so dropping folders from
    PATH would not do)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for d in os.environ.get("PATH", "/usr/bin:/bin").split(":"):
        if not d or not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            src = os.path.join(d, name)
            if name in names or (folder / name).exists() or not os.access(src, os.X_OK):
                continue
            if os.path.isdir(src):
                continue
            os.symlink(src, folder / name)
    return str(folder)


# ---- files and configs of images ---------------------------------------------------------------


def _norm(name: str) -> str:
    name = name[2:] if name.startswith("./") else name
    return name.rstrip("/")


def export_files(tar_path) -> dict:
    """path -> (type, mode, uid, gid, size, sha256, symlink target) of a `podman export` tar;
    a hardlink is listed as the regular file it is (a folder shows it so)."""
    out, data_of = {}, {}
    with tarfile.open(tar_path) as tf:
        for m in tf:
            path = _norm(m.name)
            if not path:
                continue
            if m.isreg():
                data = tf.extractfile(m).read()
                data_of[path] = data
                out[path] = ("f", m.mode & 0o7777, m.uid, m.gid, len(data),
                             hashlib.sha256(data).hexdigest(), None)
            elif m.islnk():
                first = out[_norm(m.linkname)]
                out[path] = ("f", m.mode & 0o7777, m.uid, m.gid) + first[4:]
            elif m.isdir():
                out[path] = ("d", m.mode & 0o7777, m.uid, m.gid, 0, None, None)
            elif m.issym():
                out[path] = ("l", m.mode & 0o7777, m.uid, m.gid, 0, None, m.linkname)
            else:
                kind = {tarfile.CHRTYPE: "c", tarfile.BLKTYPE: "b", tarfile.FIFOTYPE: "p"}
                dev = m.type in (tarfile.CHRTYPE, tarfile.BLKTYPE)
                out[path] = (kind.get(m.type, "?"), m.mode & 0o7777, m.uid, m.gid, 0, None,
                             f"{m.devmajor}:{m.devminor}" if dev else None)
    return out


def tree_files(root) -> dict:
    """The same as export_files for the folder `root` (its root itself left out)."""
    root = Path(root)
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            st = os.lstat(p)
            rel = str(p.relative_to(root))
            mode = st.st_mode & 0o7777
            if stat.S_ISREG(st.st_mode):
                data = p.read_bytes()
                out[rel] = ("f", mode, st.st_uid, st.st_gid, len(data),
                            hashlib.sha256(data).hexdigest(), None)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", mode, st.st_uid, st.st_gid, 0, None, None)
            elif stat.S_ISLNK(st.st_mode):
                # a symlink's own mode is 0777 in every tar and on Linux
                out[rel] = ("l", 0o777, st.st_uid, st.st_gid, 0, None, os.readlink(p))
            else:
                kind = "c" if stat.S_ISCHR(st.st_mode) else "b" if stat.S_ISBLK(st.st_mode) \
                    else "p"
                dev = f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}" if kind in "cb" else None
                out[rel] = (kind, mode, st.st_uid, st.st_gid, 0, None, dev)
    return out


def image_config(config: dict) -> dict:
    """The compared fields of an image config (an OCI config's "config", or podman image
    inspect's "Config"): missing, null and empty are the same."""
    return {k: config.get(k) or None for k in CONFIG_FIELDS}
