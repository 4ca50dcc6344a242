"""The §4.1 claim ``sec41-bias-vanishes`` (isttheory/claims/asymptotic.py): its verdicts on the structured
problems, and mutations of the exact engine it reads that each verdict must notice."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from isttheory import budget
from isttheory.claims import Settings
from isttheory.claims.registry import Verdict, get
from isttheory.structured_theory import StructuredMoments

SIZES = (16, 32, 64)


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The fast budget with three small sizes (the claim's own sizes reach 1024)."""
    monkeypatch.setattr(budget, "FAST", dataclasses.replace(budget.FAST, asymptotic_sizes=SIZES))
    return Settings(fast=True)


def _findings(settings: Settings) -> dict[str, object]:
    claim = get("sec41-bias-vanishes")
    return {f.variant: f for f in claim.run(None, settings)}  # type: ignore[arg-type]  # a global claim


def test_the_bias_does_not_vanish_and_x_inf_keeps_its_bound(small: Settings) -> None:
    found = _findings(small)
    rel, bound = found["relative-bias"], found["x_inf-bound"]
    assert rel.verdict is Verdict.REFUTED and rel.numbers["slope_rel_bias"] > 0  # ERRATA sec41-bias-vanishes
    assert bound.verdict is Verdict.VERIFIED
    assert all(rel.instance == f"low_rank_diagonal, n = d = {SIZES[0]}..{SIZES[-1]}" for rel in found.values())
    assert not get("sec41-bias-vanishes").unexpected(rel)  # an expected refutation: verify exits 0


def test_a_fixed_point_twice_too_large_breaks_the_bound(small: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    original = StructuredMoments.x_inf.func  # type: ignore[attr-defined]
    monkeypatch.setattr(StructuredMoments, "x_inf", property(lambda self: 2 * original(self)))
    assert _findings(small)["x_inf-bound"].verdict is Verdict.REFUTED


def test_a_bias_that_shrinks_like_1_over_n_would_verify(small: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StructuredMoments, "h", property(lambda self: np.asarray(self.problem.x_star) / self.problem.n))
    assert _findings(small)["relative-bias"].verdict is Verdict.VERIFIED
