"""Words that say no more than was shown (issue 13).

"machine-checked" and "establish…" are not used anywhere a user reads (README, ERRATA.md, docs,
notebooks, the library's and the proofs' text); "proved" appears there only as the verdict PROVED (whose
meaning, every decisive step general, the README defines) or in the phrases listed below, each of which
says no more than a step kind supports. Every derivation step states its reach: none is left "unstated".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXTS = sorted([ROOT / "README.md", ROOT / "ERRATA.md", *(ROOT / "docs").rglob("*.md"),
                *(ROOT / "notebooks").glob("*.py"), *(ROOT / "isttheory").rglob("*.py"),
                *(ROOT / "proofs").glob("*.py"), *(ROOT / "examples").rglob("*.*")])
FORBIDDEN = re.compile(r"machine[- ]checked|establish", re.IGNORECASE)
#: lower-case "proved" is allowed only inside these phrases
ALLOWED_PROVED = ("corrected one is proved or only checked", "is not proved", "not proved", "proved in symbolic",
                  "proved for every", "proved for all", "proved symbolically", "proved by one exact instance")


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_overstating_words(path: Path) -> None:
    if not path.is_file() or path.suffix not in (".py", ".md", ".toml", ".txt"):
        pytest.skip("not text")
    text = path.read_text(encoding="utf-8")
    assert not FORBIDDEN.search(text), f"{path.name}: {FORBIDDEN.search(text)}"  # type: ignore[union-attr]
    for m in re.finditer(r"\bproved\b", text):
        around = text[max(0, m.start() - 40): m.end() + 40].replace("\n", " ")
        around = re.sub(r"\s*#\s*", " ", around)
        assert any(a in re.sub(r"\s+", " ", around) for a in ALLOWED_PROVED), f"{path.name}: …{around}…"


def test_every_derivation_step_states_its_reach() -> None:
    from isttheory.derivations import discover
    from isttheory.derivations.base import UNSTATED

    unstated = {name: [s.name for s in derive().steps if s.sizes == str(UNSTATED)]
                for name, derive in discover().items()}
    assert not {k: v for k, v in unstated.items() if v}, unstated
