#!/usr/bin/env python3
"""Writes doc/files.md: a table per source folder, one row per module (its .h and .c files), with
the first sentence of the module's top comment (the header's, else the source's). With --check,
fails when doc/files.md is not what this would write (meson test runs that), so the table stays
true to the tree.

    tools/doc-files.py [--check] [ROOT]
"""
import re
import sys
from pathlib import Path

FOLDERS = ["fs/base", "fs/store", "fs/layer", "fs/mount", "fs/view", "fs/workspace",
           "launcher/config", "launcher/registry", "launcher/feature", "launcher/build", "launcher/engine",
           "launcher/compose", "launcher/container", "launcher/up", "tools"]


def first_sentence(path: Path) -> str:
    m = re.match(r"\s*/\*(.*?)\*/", path.read_text(), re.S)
    if not m:
        return ""
    text = " ".join(line.strip().lstrip("*").strip() for line in m.group(1).splitlines())
    text = re.sub(r"\s+", " ", text).strip()
    end = re.search(r"(?<!e\.g)(?<!i\.e)\.(\s|$)", text)
    sentence = text[:end.start() + 1] if end else text
    return sentence.replace("|", "\\|")


def table(root: Path, folder: str) -> list:
    d = root / folder
    modules = sorted({p.stem for p in d.glob("*.[ch]")})
    rows = [f"## `{folder}/`", "", "| module | what it is for |", "|---|---|"]
    for m in modules:
        files = [p for p in (d / f"{m}.h", d / f"{m}.c") if p.exists()]
        names = ", ".join(f"`{p.name}`" for p in files)
        desc = next((s for s in (first_sentence(p) for p in files) if s), "")
        rows.append(f"| {names} | {desc} |")
    return rows + [""]


def render(root: Path) -> str:
    lines = ["# Source files", "",
             "One table per folder, made by `tools/doc-files.py` from each module's top comment",
             "(`meson test` fails when it is out of date). The folders' layers are in",
             "[architecture.md](architecture.md).", ""]
    for folder in FOLDERS:
        lines += table(root, folder)
    return "\n".join(lines)


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    root = Path(args[0]) if args else Path(__file__).resolve().parent.parent
    text = render(root)
    out = root / "doc" / "files.md"
    if check:
        if not out.exists() or out.read_text() != text:
            print("doc/files.md is out of date: run tools/doc-files.py")
            return 1
        return 0
    out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
