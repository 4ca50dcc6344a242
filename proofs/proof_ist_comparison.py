"""§4.3: ω ≲ μ²/L² forces n ≤ 2 (Perm-q) or q ≥ dκ²/(1+κ²) ≥ d/2 (Rand-q); (23) has θ = 1 for every n."""

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.ist_comparison import d, derive, kappa, n, q


def test_ist_comparison_holds():
    D = derive().require()
    assert sum(s.kind == "symbolic" for s in D.steps) >= 18


@pytest.mark.parametrize("kw", [dict(omega_perm=n), dict(omega_perm=n - 2), dict(omega_rand=d / q),
                                dict(threshold=d * kappa / (1 + kappa)), dict(threshold=d / 2),
                                dict(theta=sp.Integer(2)), dict(theta=sp.Rational(1, 2))])
def test_ist_comparison_mutations_fail(kw):
    D = derive(**kw)
    assert any(s.kind == "symbolic" for s in D.failed())
    with pytest.raises(ProofFailure):
        D.require()
