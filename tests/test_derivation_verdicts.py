"""A derivation's step outcomes and its claim verdict are two things, mapped in one place
(:func:`isttheory.claims.proofs.derivation_finding`): a disproved or failed step makes the claim REFUTED; a step
SymPy can neither prove nor refute (*undecided*) makes it INCONCLUSIVE, never REFUTED."""

from __future__ import annotations

import sympy as sp

from isttheory.claims.proofs import derivation_finding
from isttheory.claims.registry import Verdict
from isttheory.derivations.base import GENERAL, Derivation

x = sp.Symbol("x", positive=True)


def _derivation(*residuals: sp.Expr) -> Derivation:
    d = Derivation("test claim", ("(1)",))
    d.symbolic("x - x = 0", "(1)", x - x, reach=GENERAL)
    for i, r in enumerate(residuals):
        d.symbolic(f"step {i}", "(1)", r, reach=GENERAL)
    return d


def test_an_undecided_step_is_inconclusive_not_refuted() -> None:
    d = _derivation(sp.Function("g")(x))  # an unknown function: neither 0 nor shown non-zero
    assert [s.verdict for s in d.failed()] == ["undecided"] and not d.refuting()
    f = derivation_finding("test", d)
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.message.startswith("undecided: (1) step 0") and "residual g(x)" in f.message


def test_a_disproved_step_is_refuted_even_beside_an_undecided_one() -> None:
    d = _derivation(sp.Function("g")(x), x + 1)  # x + 1 > 0 for x > 0: disproved by a witness
    assert [s.verdict for s in d.refuting()] == ["disproved"]
    f = derivation_finding("test", d)
    assert f.verdict is Verdict.REFUTED and f.message == "failed: (1) step 1"


def test_a_derivation_whose_steps_hold_is_proved() -> None:
    assert derivation_finding("test", _derivation()).verdict is Verdict.PROVED
