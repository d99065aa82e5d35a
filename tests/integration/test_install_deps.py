"""The README's commands install everything the build and the tests use.

A package installed by hand on a developer's machine hides a missing install step: the build and
the tests pass there and fail on a fresh Debian 12. These checks look at where each program the
tests run and each meson dependency() comes from, on this machine, and fail when its Debian
package is neither installed by tools/install-deps.sh (with the extra packages tools/test.sh
passes) nor pulled in by those packages' dependencies nor part of a minimal Debian root.
"""
import ast
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import REPO

TESTS = REPO / "tests" / "integration"

pytestmark = pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="not a Debian system")


def listed_packages() -> set:
    """The packages tools/install-deps.sh installs, plus the extras tools/test.sh asks for."""
    text = (REPO / "tools" / "install-deps.sh").read_text()
    m = re.search(r"^packages=\((.*?)^\)", text, re.S | re.M)
    assert m, "tools/install-deps.sh: no packages=( ... ) list"
    names = {w for w in m.group(1).split() if not w.startswith(('"', "$", "#"))}
    test_sh = (REPO / "tools" / "test.sh").read_text()
    for call in re.findall(r"bash tools/install-deps\.sh ([^;|&#\n]*)", test_sh):
        names.update(w for w in call.split() if re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", w))
    return names


@lru_cache(maxsize=1)
def dpkg_status() -> dict:
    """package -> (priority, essential, [dependency alternatives]) for installed packages."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Priority}\t${Essential}\t"
         "${Pre-Depends}, ${Depends}\t${Provides}\n"], capture_output=True, text=True, check=True).stdout
    pkgs, provides = {}, {}
    for line in out.splitlines():
        status, name, prio, essential, deps, prov = (line.split("\t") + [""] * 6)[:6]
        if not status.startswith("ii"):
            continue
        alts = []
        for group in deps.split(","):
            group = [re.split(r"[\s:(]", a.strip())[0] for a in group.split("|") if a.strip()]
            if group:
                alts.append(group)
        pkgs[name] = (prio, essential == "yes", alts)
        for p in prov.split(","):
            p = re.split(r"[\s(]", p.strip())[0]
            if p:
                provides.setdefault(p, []).append(name)
    return pkgs, provides


@lru_cache(maxsize=1)
def installed_by_readme() -> set:
    """What a fresh minbase plus install-deps.sh has: the listed packages and their dependencies,
    and every required or essential package."""
    pkgs, provides = dpkg_status()
    pending = [p for p in listed_packages()]
    pending += [p for p, (prio, essential, _) in pkgs.items() if prio == "required" or essential]
    seen = set()
    while pending:
        p = pending.pop()
        if p in seen:
            continue
        seen.add(p)
        for real in [p] + provides.get(p, []):
            if real in pkgs:
                seen.add(real)
                for group in pkgs[real][2]:
                    pending.extend(group)
    return seen


def owner(path: str) -> str:
    """The installed package that ships PATH (through /usr-merge links too), or ''."""
    resolved = str(Path(path).resolve())
    candidates = [path, resolved] + [p[4:] for p in (path, resolved) if p.startswith("/usr/")]
    for candidate in candidates:
        r = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].split(",")[0].strip()
    return ""


def programs_the_tests_run() -> dict:
    """program -> first test file naming it: the first string of every list literal (argv lists
    for subprocess) and every shutil.which("X")."""
    found = {}
    for f in sorted(TESTS.glob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            name = None
            if isinstance(node, ast.List) and node.elts and isinstance(node.elts[0], ast.Constant):
                name = node.elts[0].value
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "which" and node.args
                  and isinstance(node.args[0], ast.Constant)):
                name = node.args[0].value
                found.setdefault(name, f.name)  # a `which` names a program for certain
                continue
            if isinstance(name, str) and re.fullmatch(r"[a-z][a-z0-9_.+-]*", name) and shutil.which(name):
                found.setdefault(name, f.name)
    return found


def package_problems(what: str, path: str) -> list:
    """[] when the file at `path` comes from a Debian package that tools/install-deps.sh installs;
    else the one problem, said of `what`."""
    pkg = owner(path)
    if not pkg:
        return [f"{what} ({path}) comes from no Debian package"]
    if pkg not in installed_by_readme():
        return [f"{what} comes from package {pkg}, which tools/install-deps.sh does not install"]
    return []


def test_programs_the_tests_run_are_installed_by_the_readme():
    problems = []
    for prog, where in sorted(programs_the_tests_run().items()):
        path = shutil.which(prog)
        if not path:
            problems.append(f"{where}: '{prog}' is not installed (tests that need it would skip)")
            continue
        problems += package_problems(f"{where}: '{prog}'", path)
    assert not problems, "\n".join(problems)


def test_meson_dependencies_are_installed_by_the_readme():
    text = "\n".join(p.read_text() for p in sorted(REPO.glob("**/meson.build"))
                     if not p.relative_to(REPO).parts[0].startswith("build-"))
    problems = []
    for name in sorted(set(re.findall(r"dependency\('([^']+)'", text))):
        if name == "threads":
            continue
        r = subprocess.run(["pkg-config", "--path", name], capture_output=True, text=True)
        required = not re.search(rf"dependency\('{re.escape(name)}'[^)]*required: false", text)
        if r.returncode != 0:
            if required:
                problems.append(f"meson.build: dependency '{name}' has no pkg-config file here")
            continue
        pc = r.stdout.strip()
        if pc.startswith("/opt/"):
            continue  # a libfuse that tools/install-libfuse.sh built; the system's is checked too
        problems += package_problems(f"meson.build: dependency '{name}'", pc)
    assert not problems, "\n".join(problems)
