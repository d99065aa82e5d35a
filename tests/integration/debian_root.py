"""A Debian bookworm minbase root for tests that install real software (real Dev Container
Features run apt inside it).

Built once with `debootstrap --variant=minbase bookworm` from the mirror apt uses and cached
under /var/cache/dcfs-tests/minbase, with a completion marker beside it (minbase.complete)
written only after debootstrap succeeded and the tree was renamed into place, as
tools/bench/import's ensure_minbase does: an interrupted build is thrown away and made again.
Tests import the tree into their store with `dcfs import`; they never change it.
"""
import os
import shutil
import subprocess
import time
from pathlib import Path

CACHE = Path(os.environ.get("DCFS_TEST_CACHE", "/var/cache/dcfs-tests"))
SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
SOURCES_LIST = Path("/etc/apt/sources.list")


def debian_mirror() -> str:
    """The Debian mirror apt uses for bookworm (deb822 sources first, then sources.list)."""
    if SOURCES.exists():
        for stanza in SOURCES.read_text().split("\n\n"):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.strip()
            if "bookworm" in fields.get("suites", "").split() and fields.get("uris"):
                return fields["uris"].split()[0]
    if SOURCES_LIST.exists():
        for line in SOURCES_LIST.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == "bookworm":
                return [p for p in parts[1:] if not p.startswith("[")][0]
    return "http://deb.debian.org/debian"


def complete(tree: Path) -> bool:
    marker = tree.with_name(tree.name + ".complete")
    return (marker.exists() and (tree / "etc" / "debian_version").exists()
            and (tree / "usr" / "bin" / "dpkg").exists())


def minbase(cache: Path = CACHE) -> Path:
    """The cached minbase tree, built first when it is missing or incomplete. Raises
    RuntimeError with debootstrap's last output when the build fails."""
    tree = cache / "minbase"
    if complete(tree):
        return tree
    marker = tree.with_name(tree.name + ".complete")
    tmp = tree.with_name(tree.name + ".tmp")
    for p in (marker, tree, tmp):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        elif p.exists() or p.is_symlink():
            p.unlink()
    cache.mkdir(parents=True, exist_ok=True)
    mirror = debian_mirror()
    r = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(tmp), mirror],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"debootstrap from {mirror} failed (exit {r.returncode}):\n"
                           + r.stdout[-2000:] + r.stderr[-2000:])
    os.rename(tmp, tree)
    marker.write_text(f"debootstrap --variant=minbase bookworm {mirror}\n{time.ctime()}\n")
    return tree
