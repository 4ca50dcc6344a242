"""§3.1.2 (23)–(25): C̃_i = √n((L_i)_{ππ})^{-1/2}eeᵀ gives B̄ = I on every draw, W̄ = L̄, θ = 1, (24), and
one-step convergence at γ = 1; the printed scale [L_i^{-1/2}]_{ππ} breaks all three."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.precond_heterogeneous import derive, n_s


def test_precond_heterogeneous_holds():
    d = derive().require()
    assert sum(s.kind == "symbolic" for s in d.steps) >= 10
    assert any(s.name.startswith("finding: printed scale") and s.holds for s in d.steps)


@pytest.mark.parametrize("kw, failing, verdict", [
    (dict(variant="printed"), ("E[C̃_iL_iC̃_i] = I for every client (printed scale",), "failed"),  # numeric
    (dict(scale=n_s), ("E[C̃_0L_0C̃_0] = I", "W̄ = ½(L̄E[B̄] + E[B̄]L̄) = L̄", "θW̄ − E[B̄L̄B̄] = (θ − 1)L̄"), "disproved"),
    (dict(gamma=sp.Rational(1, 2)), ("(25): (16)'s factor", "(24) from (15) at γ = gamma"), "disproved"),
    (dict(gamma=sp.Integer(2), factor=sp.Integer(-1)), ("γ = gamma is admissible", "(24) from (15) at γ = gamma"),
     "disproved"),
])
def test_precond_heterogeneous_mutations_fail(kw, failing, verdict):
    d = derive(**kw)
    for name in failing:
        assert d.failing(name, verdict), name
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        d.require()
