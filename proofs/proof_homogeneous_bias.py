"""§4 homogeneous case (31): scaled Perm-1 on (L̃, b̃) gives g = x − b̃/√n on every draw, σ² = 0,
x^∞ = b̃/√n, and h = 0 ⇔ b̃ = 0 or L̃b̃ = √n b̃ (holds as printed)."""

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.homogeneous_bias import N, derive


def test_homogeneous_bias_holds():
    d = derive().require()
    assert sum(s.kind == "symbolic" for s in d.steps) >= 10
    assert any(s.kind == "numeric" for s in d.steps)


@pytest.mark.parametrize("kw, failing", [
    (dict(eigenvalue=N), ("−(1/√n)(L̃ − λI)b̃", "claimed λ")),  # eigenvalue n instead of √n
    (dict(sigma2=sp.Integer(1)), ("σ² = E‖g − E g‖²", "σ² at x*")),  # σ² claimed nonzero
    (dict(sigma2=sp.Rational(1, 10)), ("σ² = E‖g − E g‖²", "σ² at x*")),
    (dict(scale=N), ("Diag(L̃) = I on every draw", "x^∞ = b̃/√n; h = 0")),  # scale n: B̄ = nI, x^∞ = b̃/n
])
def test_homogeneous_bias_mutations_fail(kw, failing):
    d = derive(**kw)
    for name in failing:
        assert any(name in s.name for s in d.failed()), name
    with pytest.raises(ProofFailure):
        d.require()
