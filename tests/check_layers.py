#!/usr/bin/env python3
"""Checks that the source folders keep their layers: a file includes only headers of its own folder
and of the folders below it (LAYERS), a folder's *_internal.h is included only inside that folder
(and by the unit tests), and no header name is defined in two folders (the include path is
shared). Run by `meson test`."""
import re
import sys
from pathlib import Path

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
# folder: the folders it may include from (besides itself), directly or through one another.
LAYERS = {
    "fs/base": [],
    "fs/store": ["fs/base"],
    "fs/layer": ["fs/store"],
    "fs/mount": ["fs/base"],
    "fs/view": ["fs/store", "fs/mount"],
    "fs/workspace": ["fs/store", "fs/mount"],
    "launcher/config": ["fs/store"],
    "launcher/registry": ["launcher/config", "fs/layer"],
    "launcher/feature": ["launcher/registry"],
    "launcher/build": ["launcher/config", "fs/layer"],
    "launcher/engine": ["launcher/config"],
    "launcher/compose": ["launcher/engine"],
    "launcher/container": ["launcher/compose", "fs/layer", "fs/mount"],
    "launcher/up": ["launcher/container", "launcher/registry", "launcher/feature",
                    "launcher/build", "fs/workspace", "fs/view"],
    "tools": ["launcher/up", "fs/view", "fs/workspace"],
    "tests/unit": ["launcher/up", "fs/view", "fs/workspace"],
}
# Folders that may include any folder's *_internal.h: the unit tests of parsers and tables
# that are not part of an API.
WHITE_BOX = {"tests/unit"}


def below(folder, seen=None):
    seen = set() if seen is None else seen
    for d in LAYERS[folder]:
        if d not in seen:
            seen.add(d)
            below(d, seen)
    return seen


def main():
    owner = {}
    problems = []
    for folder in LAYERS:
        for h in sorted((ROOT / folder).glob("*.h")):
            if h.name in owner:
                problems.append(f"{folder}/{h.name}: also in {owner[h.name]}")
            owner[h.name] = folder
    for folder in LAYERS:
        allowed = below(folder) | {folder}
        for f in sorted((ROOT / folder).glob("*.[ch]")):
            for n, line in enumerate(f.read_text().splitlines(), 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m or m.group(1) == "config.h" or m.group(1) not in owner:
                    continue
                home = owner[m.group(1)]
                where = f"{folder}/{f.name}:{n}"
                if home not in allowed:
                    problems.append(f"{where}: includes {home}/{m.group(1)}, a folder above it")
                elif m.group(1).endswith("_internal.h") and home != folder \
                        and folder not in WHITE_BOX:
                    problems.append(f"{where}: includes {home}/{m.group(1)}, private to {home}")
    for p in problems:
        print(p)
    folders = sorted({str(c.parent.relative_to(ROOT)) for top in ("fs", "launcher", "tools")
                      for c in (ROOT / top).rglob("*.c")})
    missing = [d for d in folders if d not in LAYERS]
    for d in missing:
        print(f"{d}: a source folder that LAYERS does not place")
    return 1 if problems or missing else 0


if __name__ == "__main__":
    sys.exit(main())
