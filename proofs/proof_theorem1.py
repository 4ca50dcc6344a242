"""Theorem 1 (14)–(16), interpolation: one-step identity, descent under (14) with γ ≤ 1/θ, rate (16)."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import Derivation, ProofFailure
from isttheory.derivations.theorem1 import derive


def test_theorem1_holds():
    d = derive().require()
    assert sum(s.kind == "symbolic" for s in d.steps) >= 12
    assert sum(s.kind == "numeric" for s in d.steps) >= 3
    assert all(s.verdict == "proved" for s in d.steps)


@pytest.mark.parametrize("kw, failing, verdict", [
    (dict(step_bound=2), "(15) per-step descent holds", "failed"),         # γ ≤ 2/θ: descent (15) fails on instances
    (dict(step_bound=2), "1 − descent − γθ/2 ≥ 0", "disproved"),
    (dict(rate=sp.Integer(1)), "2·descent·γ − rate ≥ 0", "disproved"),    # rate without γ: refuted at γ = 1/3
    (dict(descent=sp.Integer(1)), "1 − descent − γθ/2 ≥ 0", "disproved"),  # factor ½ → 1 in (15)
    (dict(descent=sp.Rational(1, 4)), "2·descent − 1 ≥ 0", "disproved"),   # (15) with 4/(γK) no longer follows
])
def test_theorem1_mutations_fail(kw, failing, verdict):
    d = derive(**kw)
    assert d.failing(failing, verdict), failing
    with pytest.raises(ProofFailure, match=re.escape(failing)):
        d.require()


def test_undecided_is_not_proved_and_not_disproved():
    """The verdicts mutation tests rely on: SymPy-false or a counterexample refutes; neither leaves it undecided."""
    g, x = sp.Symbol("gamma", positive=True), sp.Symbol("x", real=True)
    d = Derivation("verdicts", ())
    d.symbolic_true("decided", "", sp.Ge(g**2, 0))
    d.symbolic_true("refuted by SymPy", "", sp.Lt(g**2, 0))
    d.symbolic_true("refuted by a point", "", sp.Ge(g - 1, 0))            # rate = 1 in (16): false at γ = 1/3
    d.symbolic_true("undecided", "", sp.Ge(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1 + sp.Abs(x) - x, 0))
    d.symbolic("identity refuted", "", (g + 1) ** 2 - g**2 - 1)
    d.symbolic_false("refutation step", "", sp.Ge(g - 1, 0))
    assert [s.verdict for s in d.steps] == ["proved", "disproved", "disproved", "undecided", "disproved", "proved"]
    assert [s.holds for s in d.steps] == [True, False, False, False, False, True]
    assert d.failing("undecided") and not d.failing("undecided", "disproved")
    assert d.steps[3].detail.startswith("undecided") and d.steps[2].detail.startswith("disproved")
