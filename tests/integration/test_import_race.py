"""dcfs import of a directory never follows a symlink below the source, even one swapped in
while the walk runs: a user who can change the tree being imported cannot make dcfs read a
root-only folder elsewhere into an image he can mount."""
import os
import subprocess
import sys
import textwrap

import pytest

ROUNDS = 30
FILLERS = 50

# Exchanges the directory `swap` and the symlink `swap.link` (to the secret folder) as fast as
# it can with renameat2(RENAME_EXCHANGE), for at most `limit` rounds or until killed.
RACER = textwrap.dedent("""
    import ctypes, os, sys
    libc = ctypes.CDLL(None, use_errno=True)
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    a, b, limit = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2]), int(sys.argv[3])
    print("ready", flush=True)
    for _ in range(limit):
        if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
            sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))
""")


def secret_folder(tmp_path, secret):
    """A root-only folder outside the source, with the same names as the swapped folder."""
    d = tmp_path / "rootonly"
    d.mkdir(mode=0o700)
    (d / "deeper").mkdir(mode=0o700)
    for name in ["data", "deeper/data"] + [f"f{i:02d}" for i in range(FILLERS)]:
        (d / name).write_bytes(secret)
        (d / name).chmod(0o600)
    return d


def source_tree(tmp_path, secret_dir):
    src = tmp_path / "src"
    (src / "swap" / "deeper").mkdir(parents=True)
    (src / "swap" / "data").write_bytes(b"harmless\n")
    (src / "swap" / "deeper" / "data").write_bytes(b"harmless too\n")
    for i in range(FILLERS):
        (src / "swap" / f"f{i:02d}").write_bytes(b"filler %d\n" % i)
    os.symlink(secret_dir, src / "swap.link")
    return src


def assert_secret_nowhere(store, secret):
    for name in store.chunk_files():
        assert secret not in store.read_chunk(name), f"chunk {name} holds the secret"


def test_pre_placed_symlinks_are_stored_not_followed(dcfs, store, tmp_path):
    secret = b"TOPSECRET-" + os.urandom(8).hex().encode()
    rootonly = secret_folder(tmp_path, secret)
    src = tmp_path / "src"
    src.mkdir()
    os.symlink(rootonly, src / "dir")
    os.symlink(rootonly / "data", src / "file")
    dcfs("import", src, "placed")
    ents = store.entries("placed:latest")
    assert ents["dir"]["type"] == "l" and ents["dir"]["target"] == str(rootonly)
    assert ents["file"]["type"] == "l" and ents["file"]["target"] == str(rootonly / "data")
    assert not [p for p in ents if p.startswith("dir/")], sorted(ents)
    assert_secret_nowhere(store, secret)


def test_directory_swapped_for_symlink_during_import_is_never_followed(dcfs, store, tmp_path):
    secret = b"TOPSECRET-" + os.urandom(8).hex().encode()
    src = source_tree(tmp_path, secret_folder(tmp_path, secret))
    racer = subprocess.Popen([sys.executable, "-c", RACER, str(src / "swap"),
                              str(src / "swap.link"), "1000000000"],
                             stdout=subprocess.PIPE, text=True)
    refused = []
    try:
        assert racer.stdout.readline().strip() == "ready"
        runs = [dcfs("import", src, f"raced{i}", check=False) for i in range(ROUNDS)]
        assert racer.poll() is None, "the racer stopped early: the race did not run throughout"
    finally:
        racer.kill()
        racer.wait()
    # Whatever each round saw, no image (and no chunk in the store) holds the secret.
    assert_secret_nowhere(store, secret)
    for ref in dcfs.images():
        for path, row in store.entries(ref).items():
            if row["type"] == "f":
                assert secret not in store.entry_content(row), f"{ref}: {path}"
    # A round that caught the swap says so, in one line naming the entry.
    for p in runs:
        if p.returncode != 0:
            assert p.returncode == 1, p.stderr
            assert len(p.stderr.strip().splitlines()) == 1, p.stderr
            assert "changed while it was being imported" in p.stderr, p.stderr
            refused.append(p)
    print(ROUNDS - len(refused), "imported,", len(refused), "refused")
