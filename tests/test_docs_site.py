"""The documentation site: it builds with ``sphinx -W`` (no warning), and its pages render in a real browser.

The build is the README's command with one difference, to keep CI short: only two notebooks are executed
(``ISTTHEORY_DOCS_EXECUTE_ONLY``: 04, with figures and the §4.1 section, and 06, whose cells display Markdown
with math); the others are rendered as stored (nbmake executes every notebook elsewhere in the suite). The
claim pages, the catalogue, its dependency graph, the errata and the ``verify --out`` report are generated
exactly as in the README's build.

Pages are opened in headless Chromium (Playwright driving Debian's ``chromium`` package, which ``.ci/run``
installs) and checked by :func:`tests.browser.page_problems`: no console error, every image loaded, no raw
TeX in the visible text, every internal link resolves. Screenshots of the catalogue, a claim page and the
HTML report are saved under ``test-artifacts/docs/``. Without Chromium or Playwright the browser tests skip,
except where ``ISTTHEORY_REQUIRE_BROWSER=1`` (set by ``.ci/run``): there a missing browser fails.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from isttheory.claims.catalogue import PAPER_CLAIMS
from isttheory.cli import build_parser
from isttheory.lemmas import paper_lemmas

from .browser import browser, chromium_path, page_problems

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "docs"
REQUIRED = os.environ.get("ISTTHEORY_REQUIRE_BROWSER") == "1"
EXECUTED = "04_*,06_*"

pytest.importorskip("sphinx", reason="the docs extra is not installed (pip install '.[docs]')")


def _need_browser() -> None:
    missing = []
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if chromium_path() is None:
        missing.append("Chromium (apt-get install chromium)")
    if missing:
        if REQUIRED:
            pytest.fail("ISTTHEORY_REQUIRE_BROWSER=1 but " + " and ".join(missing) + " is missing")
        pytest.skip(" and ".join(missing) + " not installed")


def _need_tools() -> None:
    """LaTeX and dvisvgm draw the math, preview.sty aligns it, graphviz draws the claims graph."""
    missing = [t for t in ("latex", "dvisvgm", "dot", "kpsewhich") if shutil.which(t) is None]
    if not missing and subprocess.run(["kpsewhich", "preview.sty"], capture_output=True).returncode != 0:
        missing.append("preview.sty (apt-get install preview-latex-style)")
    if missing:
        if REQUIRED:
            pytest.fail("ISTTHEORY_REQUIRE_BROWSER=1 but the docs build needs " + ", ".join(missing))
        pytest.skip("the docs build needs " + ", ".join(missing))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _need_tools()
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, ISTTHEORY_DOCS_EXECUTE_ONLY=EXECUTED, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           "-d", str(out / ".doctrees"), str(ROOT / "docs"), str(out / "html")],
                          env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, "sphinx -W failed:\n" + (done.stderr or done.stdout)[-4000:]
    return out / "html"


@pytest.fixture(scope="module")
def server(site: Path) -> str:
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


def test_every_claim_and_lemma_file_has_a_page_with_its_status(site: Path) -> None:
    catalogue = (site / "claims" / "index.html").read_text()
    for pc in PAPER_CLAIMS:
        page = site / "claims" / f"{pc.id}.html"
        assert page.exists(), pc.id
        assert 'class="status status-' in page.read_text(), pc.id
        assert f'href="{pc.id}.html"' in catalogue
    for lm in paper_lemmas():
        assert (site / "claims" / f"lemma-{lm.id}.html").exists(), lm.id
    assert "<svg" in catalogue or ".svg" in catalogue, "the dependency graph was not drawn"
    assert (site / "report" / "report.html").exists()
    cli = (site / "reference" / "cli.html").read_text()
    commands = next(a.choices for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert commands and all(f'section id="isttheory-{c}"' in cli for c in commands), "a command is not in the CLI page"


SHOTS = {"claims/index.html": "catalogue.png", "claims/theorem2.html": "claim-theorem2.png",
         "report/report.html": "report.png"}


def test_every_page_renders_in_a_real_browser(site: Path, server: str) -> None:
    """Every page of the site (Sphinx's own search and index pages aside) and the report."""
    _need_browser()
    pages = sorted(str(p.relative_to(site)) for p in site.rglob("*.html")
                   if not any(part.startswith("_") for part in p.relative_to(site).parts)
                   and p.name not in ("search.html", "genindex.html", "py-modindex.html"))
    assert len(pages) > 40 and "report/report.html" in pages and "notebooks/04_bias_and_fixed_point.html" in pages
    found: dict[str, list[str]] = {}
    links: dict[str, int] = {}
    with browser() as b:
        for path in pages:
            shot = ARTIFACTS / SHOTS[path] if path in SHOTS else None
            problems = page_problems(b, server + path, shot, link_status=links)
            if problems:
                found[path] = problems
    assert not found, "\n".join(f"{p}: {q}" for p, qs in found.items() for q in qs)
    for name in SHOTS.values():
        assert (ARTIFACTS / name).stat().st_size > 10_000, name
    print("screenshots:", ", ".join(str(ARTIFACTS / n) for n in SHOTS.values()))


BROKEN = """<!doctype html><html><head><title>broken</title></head><body>
<p>The bound $\\|h\\|^2_{\\bar L}$ was left as source.</p>
<img src="missing.png" alt="missing">
<a href="nowhere.html">a dead link</a>
<pre>$ isttheory verify   # a shell prompt in a code block is fine</pre>
<script>console.error("boom")</script>
</body></html>"""


def test_the_browser_checks_catch_a_broken_page(tmp_path: Path) -> None:
    """Mutation test of the checker: raw TeX, a missing image, a dead link and a console error are each
    reported; the same page with those four removed passes."""
    _need_browser()
    (tmp_path / "broken.html").write_text(BROKEN)
    (tmp_path / "clean.html").write_text("<!doctype html><html><body><p>x<sup>2</sup></p>"
                                         "<pre>$ isttheory verify</pre></body></html>")
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        with browser() as b:
            problems = page_problems(b, base + "broken.html")
            clean = page_problems(b, base + "clean.html")
    finally:
        httpd.shutdown()
        httpd.server_close()
    text = "\n".join(problems)
    assert "raw TeX '$'" in text and "\\bar" in text
    assert "image not loaded: missing.png" in text
    assert "broken link (404)" in text and "nowhere.html" in text
    assert "console error: boom" in text
    assert clean == [], clean
