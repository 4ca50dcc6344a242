"""§4.1 mean recursion (28): closed form, limit x^∞ = (1/(n√n)) Σ D_i^{-1/2} b_i, Monte Carlo;
and the finding that the bias does NOT vanish as n = d → ∞ (relative bias → 1; x^∞ → 0)."""

import pytest

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.mean_recursion import N, derive


def test_mean_recursion_holds():
    d = derive().require()
    assert sum(s.kind == "symbolic" for s in d.steps) >= 10
    assert sum(s.kind == "numeric" for s in d.steps) >= 5
    assert any(s.name.startswith("each summand M ∓ a_i ≥ 0") and s.verdict == "proved" for s in d.steps)


@pytest.mark.parametrize("kw, disproved, failed", [
    (dict(limit_coef=1 / N), ("x^∞ = D̃b̃/√n = limit_coef",), ("Monte Carlo",)),  # (1/n) instead of 1/(n√n)
    (dict(exponent_shift=1), ("E[x⁰] = x⁰",), ("Monte Carlo",)),  # closed form with (1−γ)^{k+1}
    # the paper's "bias vanishes as n = d → ∞": the trend check (not only the triangle-inequality consequence)
    (dict(relative_bias_limit=0.0), (), ("relative bias ‖h‖/‖x*‖ → 0.0", "consequence of the previous steps")),
    (dict(relative_bias_limit=0.5), (), ("relative bias ‖h‖/‖x*‖ → 0.5",)),
])
def test_mean_recursion_mutations_fail(kw, disproved, failed):
    d = derive(**kw)
    for name in disproved:
        assert d.failing(name, "disproved"), name
    for name in failed:
        assert d.failing(name), name
    with pytest.raises(ProofFailure):
        d.require()
