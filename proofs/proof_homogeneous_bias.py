"""§4 homogeneous case (31): scaled Perm-1 on (L̃, b̃) gives g = x − b̃/√n on every draw, σ² = 0,
x^∞ = b̃/√n, and h = 0 ⇔ b̃ = 0 or L̃b̃ = √n b̃ (holds as printed)."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.homogeneous_bias import N, derive


def test_homogeneous_bias_holds():
    d = derive().require()
    assert sum(s.kind == "symbolic" for s in d.steps) >= 10
    assert any(s.kind == "numeric" for s in d.steps)


@pytest.mark.parametrize("kw, disproved, failed", [
    # eigenvalue n instead of √n: infeasible (λ = n = tr L̃), and with r = λ − 1 = 1 the d = 2 matrix is singular;
    # the (⇐) step works with L̃h (no inverse), so it is refuted rather than evaluating to zoo
    (dict(eigenvalue=N), ("−(1/√n)(L̃ − λI)b̃", "… and it is r = λ − 1", "(⇐) r = λ − 1", "|λ − 1| < 1",
                          "feasible for every n = 2 + m"), ("claimed λ",)),
    (dict(sigma2=sp.Integer(1)), ("σ² = E‖g − E g‖²",), ("σ² at x*",)),  # σ² claimed nonzero
    (dict(sigma2=sp.Rational(1, 10)), ("σ² = E‖g − E g‖²",), ("σ² at x*",)),
    (dict(scale=N), ("Diag(L̃) = I on every draw", "… and it is r = λ − 1"), ("x^∞ = b̃/√n; h = 0",)),  # B̄ = nI
])
def test_homogeneous_bias_mutations_fail(kw, disproved, failed):
    d = derive(**kw)
    for name in disproved:
        assert d.failing(name, "disproved"), name
    for name in failed:
        assert d.failing(name), name
    assert not any("zoo" in s.detail or "nan" in s.detail for s in d.failed())
    with pytest.raises(ProofFailure, match=re.escape(disproved[0])):
        d.require()
