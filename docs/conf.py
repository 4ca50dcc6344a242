"""Sphinx configuration of the isttheory documentation site (``python -m sphinx -W -b html docs docs/_build/html``).

The claim pages, the catalogue with its dependency graph and the errata page are generated from one ``verify``
run when the build starts (:func:`isttheory.report.site.generate`); the notebooks are copied from
``notebooks/`` and executed by myst-nb (cached in ``docs/_build/.jupyter_cache``). Math is rendered at build
time by ``sphinx.ext.imgmath`` (LaTeX and dvisvgm, no network): pages carry SVG images, no JavaScript math.

Environment: ``ISTTHEORY_DOCS_FIGURES=0`` skips the report figures (the claim pages then show none);
``ISTTHEORY_DOCS_EXECUTE=off`` renders the notebooks without executing them, and
``ISTTHEORY_DOCS_EXECUTE_ONLY`` executes a subset (the browser test executes two).
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import isttheory  # noqa: E402

project = "isttheory"
author = "the isttheory developers"
release = version = isttheory.__version__
copyright = "2026, the isttheory developers"  # noqa: A001 - Sphinx's name

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.imgmath", "sphinx.ext.graphviz", "sphinxarg.ext"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "_extra", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "notebooks/*.py"]
suppress_warnings = ["myst.header"]  # the guides include README sections, which start at ###

html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_css_files = ["isttheory.css", "status.css"]  # status.css: generated (isttheory.report.site)
html_favicon = "_static/favicon.svg"  # also spares the browser a /favicon.ico request that would 404
html_title = f"isttheory {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2, "secondary_sidebar_items": ["page-toc"]}
FIGURES = os.environ.get("ISTTHEORY_DOCS_FIGURES", "1") != "0"
html_extra_path = ["_extra"] if FIGURES else []  # the verify --out report, served as report/

imgmath_image_format = "svg"
# imgmath's templates load anyfontsize (texlive-latex-extra); docs/_latex has a no-op stand-in for it
os.environ["TEXINPUTS"] = f"{DOCS / '_latex'}{os.pathsep}{os.environ.get('TEXINPUTS', '')}"
imgmath_use_preview = True  # baseline alignment of inline math
imgmath_font_size = 14
graphviz_output_format = "svg"

nb_execution_mode = os.environ.get("ISTTHEORY_DOCS_EXECUTE", "cache")
# ISTTHEORY_DOCS_EXECUTE_ONLY="04_*,06_*" executes only the notebooks matching one of those names (the browser
# test's subset); the others are rendered as stored, without outputs
_ONLY = [g for g in os.environ.get("ISTTHEORY_DOCS_EXECUTE_ONLY", "").split(",") if g]
nb_execution_excludepatterns = [f"notebooks/{nb.name}" for nb in sorted((ROOT / "notebooks").glob("*.ipynb"))
                                if _ONLY and not any(fnmatch.fnmatch(nb.name, g) for g in _ONLY)]
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_render_markdown_format = "myst"  # Markdown outputs (display(Markdown(...))) get $...$ math, as cells do

autodoc_typehints = "signature"
autodoc_member_order = "bysource"


def _copy_notebooks() -> None:
    """The notebooks live in ``notebooks/`` (with their jupytext scripts); the site renders copies."""
    target = DOCS / "notebooks"
    target.mkdir(exist_ok=True)
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        dst = target / nb.name
        if not dst.exists() or dst.read_bytes() != nb.read_bytes():
            shutil.copyfile(nb, dst)


def _generate(app: object, config: object) -> None:
    from isttheory.report.site import generate

    generate(DOCS, fast=True, seed=0, figures=FIGURES)
    _copy_notebooks()


def setup(app: object) -> None:
    # before Sphinx validates html_extra_path (priority 800): the report folder must exist by then
    app.connect("config-inited", _generate, priority=100)  # type: ignore[attr-defined]
