"""Checks of a rendered page in headless Chromium (Playwright driving Debian's ``chromium`` package), shared
by the docs-site test and its own mutation test.

:func:`page_problems` opens one URL and returns what a reader would see go wrong, as one line each:

* console errors and uncaught page errors, and any request the page made that failed or answered ≥ 400;
* images that did not load (``naturalWidth == 0``), including the SVG math of ``sphinx.ext.imgmath``;
* raw TeX in the visible text (``$``, ``\\bar``, ``\\frac``, …) outside code and preformatted blocks: math
  that was not rendered;
* internal links (same origin) that do not resolve to a page (HTTP status ≥ 400).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlparse

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]
"""As the machine's notes prescribe: without the background-networking flags Chromium's connections to
Google's hosts are refused, many at a time, by the closed network."""

RAW_TEX = ("$", "\\bar", "\\frac", "\\mathbb", "\\sum", "\\gamma", "\\|", "\\le", "\\begin")
"""Fragments that never appear in rendered math; in visible prose they mean a formula was left as source."""

IGNORED_CONSOLE = ("Got invalid theme mode",)
"""pydata-sphinx-theme logs this when the page is opened with no stored theme choice (a fresh browser
profile): its own first-visit message, not a fault of the page."""

_VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest('pre, code, script, style, noscript, kbd, samp, .highlight')) continue;
    const st = getComputedStyle(el);
    if (st.display === 'none' || st.visibility === 'hidden') continue;
    if (n.textContent.trim()) out.push(n.textContent);
  }
  return out.join(' ');
}"""


def chromium_path() -> str | None:
    """The system Chromium, or None."""
    for name in (os.environ.get("ISTTHEORY_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and (found := shutil.which(name)):
            return found
    return None


@contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium driven by Playwright (the sync API)."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("no Chromium found")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def page_problems(b: Any, url: str, screenshot: Path | None = None, check_links: bool = True,
                  link_status: dict[str, int] | None = None) -> list[str]:
    """Open ``url`` in a new page of browser ``b``; return every problem found (empty: the page is sound).
    ``link_status`` caches the status of each link target across calls (a site's pages share their menus)."""
    problems: list[str] = []
    page = b.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type == "error" and not m.text.startswith(IGNORED_CONSOLE) else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        page.goto(url, wait_until="load")  # after every image, stylesheet and script has loaded
        broken = page.evaluate("() => Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
                               ".map(i => i.getAttribute('src'))")
        problems += [f"image not loaded: {src}" for src in broken]
        text = page.evaluate(_VISIBLE_TEXT)
        for frag in RAW_TEX:
            at = text.find(frag)
            if at >= 0:
                problems.append(f"raw TeX {frag!r} in the visible text: …{text[max(0, at - 40):at + 40]}…")
        if check_links:
            origin = urlparse(url).netloc
            hrefs = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
            targets = sorted({urldefrag(h)[0] for h in hrefs if urlparse(h).netloc == origin})
            seen = {} if link_status is None else link_status
            for t in targets:
                if t not in seen:
                    seen[t] = page.request.get(t).status
                status = seen[t]
                if status >= 400:
                    problems.append(f"broken link ({status}): {t}")
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=False)
    finally:
        page.close()
    return problems
