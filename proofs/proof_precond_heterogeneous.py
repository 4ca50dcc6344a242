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


@pytest.mark.parametrize("kw, failing", [
    (dict(variant="printed"), "E[C̃_iL_iC̃_i] = I for every client (printed scale"),
    (dict(scale=n_s), "E[C̃_0L_0C̃_0] = I"),
    (dict(gamma=sp.Rational(1, 2)), "(25): (16)'s factor"),
])
def test_precond_heterogeneous_mutations_fail(kw, failing):
    with pytest.raises(ProofFailure, match=re.escape(failing)):
        derive(**kw).require()
