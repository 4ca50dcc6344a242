"""Remark 1 (18)–(19): W̄ not PSD for c > 2ab/(a+b), so no θ satisfies (14); the exact scale factor is n = 2.
General in a, b, c (the claim fixes n = d = 2); the refutation is general and also exact on instances."""

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.remark1 import a, b, c, derive


def test_remark1_holds():
    d = derive().require()
    assert d.strength == "PROVED" and d.refutation_certified is True
    assert all(s.kind == "general" for s in d.steps if s.kind != "numeric")
    assert all(s.exact and s.role == "refutation" for s in d.steps if s.kind == "numeric")
    general_refutations = [s for s in d.refutations() if s.kind == "general"]
    assert len(general_refutations) == 2
    inst = next(s for s in d.steps if s.name.startswith("(a, b, c) = (1, 2, 7/5)"))
    assert "vᵀW̄v = -82/25" in inst.detail and "vᵀE[B̄L̄B̄]v = 52/5" in inst.detail
    lemma = next(s for s in d.steps if "remark1-w-psd" in s.name)
    assert "lhs − rhs = -0.8271195780660" in lemma.detail


@pytest.mark.parametrize("kw,step", [
    (dict(scale=1), "W̄ = scale"), (dict(scale=sp.Rational(1, 2)), "W̄ = scale"),
    (dict(offdiag=c * sp.sqrt(a * b)), "W̄ = scale"),                  # = c(a+b)/2 at a = b
    (dict(eb_scale=1), "E[B̄] = eb_scale"),
    (dict(det_factor=(a * b - c * (a + b) / 2) ** 2), "det M₁₉ = det_factor"),
    (dict(threshold=sp.sqrt(a * b)), "the root is the claimed threshold"),  # = 2ab/(a+b) at a = b
    (dict(threshold=a * b / (a + b)), "the root is the claimed threshold"),
    (dict(threshold=2 * a * b / (a + b) + 1), "the root is the claimed threshold"),
    (dict(psd_gap=a * b * (a - b) ** 2 / (2 * (a + b) ** 2)), "threshold ≤ √(ab)"),  # = 0 at a = b too
    (dict(blb_scale=2), "E[B̄L̄B̄] = blb_scale"),
])
def test_remark1_mutations_fail(kw, step):
    d = derive(**kw)
    bad = d.failing(step, "disproved")
    assert bad and all(s.kind == "general" for s in bad), [(s.name, s.verdict) for s in d.failed()]
    with pytest.raises(ProofFailure):
        d.require()


def test_wrong_values_agree_on_the_diagonal_a_equals_b():
    """The wrong threshold, off-diagonal and gap agree with the right ones at a = b: a check there would miss them."""
    assert sp.simplify((sp.sqrt(a * b) - 2 * a * b / (a + b)).subs(b, a)) == 0
    assert sp.simplify((c * sp.sqrt(a * b) - c * (a + b) / 2).subs(b, a)) == 0
