"""Run and sample counts live in isttheory/budget.py: Settings hands them to every claim and to the report."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from isttheory.budget import FAST, FULL, budget
from isttheory.claims import Settings

PACKAGE = Path(__file__).resolve().parents[1] / "isttheory"


def test_settings_hand_out_the_budget_of_their_mode():
    assert budget(True) is FAST and budget(False) is FULL
    assert Settings().budget is FAST and Settings(fast=False).budget is FULL


def test_full_spends_at_least_as_much_as_fast_on_every_count():
    for f in dataclasses.fields(FAST):
        full, fast = getattr(FULL, f.name), getattr(FAST, f.name)
        if isinstance(fast, tuple):  # a list of sizes: FULL reaches at least as far, and includes FAST's
            assert set(fast) <= set(full) and min(fast) > 0, f.name
        else:
            assert full >= fast > 0, f.name


def test_no_count_is_chosen_by_fast_outside_the_budget():
    """``400 if settings.fast else 4000`` was written in three places; now no module picks a count by mode."""
    pattern = re.compile(r"\bif (settings\.)?fast else\b")
    offenders = [f"{p.relative_to(PACKAGE)}:{i}" for p in PACKAGE.rglob("*.py") if p.name != "budget.py"
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert offenders == []
