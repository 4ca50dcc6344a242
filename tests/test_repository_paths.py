"""No file of the repository names a path outside it: someone who clones it can follow every reference.

The paper is restated in ``docs/paper.md``; nothing points to a copy elsewhere. Checked over every tracked
file (``git ls-files``; without git, every file under the root except caches and virtualenvs):

* absolute paths into a machine's folders (the work, home, tmp, … folders at the root; a shebang first
  line is an interpreter, not a reference);
* relative paths with ``../`` that leave the repository, resolved from the file's folder and from the root;
* Markdown links to local files that do not exist inside the repository (a page the docs build generates,
  ``isttheory.report.site.page_paths``, counts as existing).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MACHINE_DIRS = ("work", "home", "root", "Users", "tmp", "mnt", "srv", "opt", "var", "etc", "usr", "private")
ABSOLUTE = re.compile(r"(?<![\w:/.~%$-])/(?:" + "|".join(MACHINE_DIRS) + r")/[\w.-]+")
CLIMBING = re.compile(r"(?<![\w/.-])((?:\.\./)+[\w./-]*)")
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
NAMED = ("shared" + "/paper", "CLAIMS" + ".md")  # assembled, so that this file does not name them itself
SHARED, CLAIMS, SLASH = NAMED[0], NAMED[1], "/"
SKIP_PARTS = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache",
              ".ruff_cache", "build", "dist", ".ipynb_checkpoints"}


def repository_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60)
        names = [n for n in out.stdout.decode().split("\0") if n]
        if names:
            return [ROOT / n for n in names if (ROOT / n).is_file()]
    except (OSError, subprocess.SubprocessError):
        pass
    return [p for p in ROOT.rglob("*") if p.is_file() and not (set(p.relative_to(ROOT).parts) & SKIP_PARTS)]


def outside_references(text: str, where: Path, root: Path = ROOT) -> list[str]:
    """Every reference in ``text`` (the content of ``where``) to a path outside ``root``."""
    found: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines, 1):
        if i == 1 and line.startswith("#!"):
            continue
        found += [f"line {i}: absolute path {m.group(0)}" for m in ABSOLUTE.finditer(line)]
        found += [f"line {i}: names {name}" for name in NAMED if name in line]
        for m in CLIMBING.finditer(line):
            rel = m.group(1)
            if not any(_inside((base / rel).resolve(), root) for base in (where.parent, root)):
                found.append(f"line {i}: {rel} leaves the repository")
    if where.suffix == ".md":
        for i, line in enumerate(lines, 1):
            for target in MD_LINK.findall(line):
                if re.match(r"[a-z][a-z0-9+.-]*:|#", target):  # a URL, mailto: or an anchor
                    continue
                path = (where.parent / target.split("#")[0]).resolve()
                if _generated_docs_page(path, root):
                    continue
                if not (_inside(path, root) and path.exists()):
                    found.append(f"line {i}: link {target} is not a file of the repository")
    return found


def _generated_docs_page(path: Path, root: Path) -> bool:
    """A page the docs build writes (``isttheory.report.site.page_paths``): linked from docs/, not committed."""
    from isttheory.report.site import page_paths

    docs = (root / "docs").resolve()
    return _inside(path, docs) and str(path.relative_to(docs)) in page_paths()


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root.resolve())
    except ValueError:
        return False
    return True


def test_no_file_names_a_path_outside_the_repository() -> None:
    files = repository_files()
    assert len(files) > 100
    bad: list[str] = []
    for path in files:
        if path.resolve() == Path(__file__).resolve():
            continue  # this file plants outside references on purpose, to test the checker
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files (images) hold no references
        bad += [f"{path.relative_to(ROOT)}: {f}" for f in outside_references(text, path)]
    assert not bad, "\n".join(bad)


def test_the_paper_is_restated_inside() -> None:
    text = (ROOT / "docs" / "paper.md").read_text(encoding="utf-8")
    for eq in ("(14)", "(15)", "(16)", "(17)", "(23)", "(24)", "(28)", "(29)", "(30)"):
        assert eq in text, eq
    for pointer in ("README.md", "isttheory/__init__.py", "isttheory/claims/registry.py"):
        assert "docs/paper.md" in (ROOT / pointer).read_text(encoding="utf-8"), pointer


@pytest.mark.parametrize(("text", "what"), [
    (f"see ../{SHARED}/{CLAIMS} for the claims", f"names {SHARED}"),
    (f"claims restated in {CLAIMS}", f"names {CLAIMS}"),
    (f"data in {SLASH}work/main/data.npz", f"absolute path {SLASH}work/main"),
    (f"log in {SLASH}tmp/ist.log", f"absolute path {SLASH}tmp/ist.log"),
    ("from ../../elsewhere/file.py", "leaves the repository"),
    ("[the claims](../../outside.md)", "link ../../outside.md"),
    ("[missing](docs/nowhere.md)", "link docs/nowhere.md"),
])
def test_the_checker_catches_each_kind_of_outside_reference(text: str, what: str) -> None:
    """Mutation test of the checker: each planted reference is reported, on a Markdown file at the root."""
    found = outside_references(text, ROOT / "README.md")
    assert any(what in f for f in found), found


def test_the_checker_accepts_what_is_inside() -> None:
    """The control: a shebang, a link and a ../ that stay inside, a URL and /dev/null are not reported."""
    ok = (f"#!{SLASH}usr/bin/env bash\nsee [the paper](paper.md) and ../README.md, https://arxiv.org/abs/2306.16484;\n"
          "errors go to >/dev/null")
    assert outside_references(ok, ROOT / "docs" / "x.md") == []


def test_the_paper_page_names_every_derivation_and_lemma_file() -> None:
    """docs/paper.md says where each claim is checked: every derivation module and every paper lemma id."""
    from isttheory.derivations import discover
    from isttheory.lemmas import paper_lemma_paths

    text = (ROOT / "docs" / "paper.md").read_text(encoding="utf-8")
    table = text[text.index("## Where each claim is checked"):text.index("## The claims as lemma files")]
    missing = [f"derivation {name}" for name in discover() if f"`{name}`" not in table]
    missing += [f"lemma {p.stem}" for p in paper_lemma_paths() if f"`{p.stem.removeprefix('lemma_')}`" not in table]
    assert not missing, missing
