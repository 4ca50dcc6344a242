"""(32)–(35): compressed GD has variance ≤ ω‖∇f‖² and fixed point x*; one IST step from x* moves away."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.compressed_gd import derive, omega

BOUND = "(34) E‖Cg − g‖² ≤ variance_coef·‖g‖² for every g"
TIGHT = "(34) is attained: E‖Cg − g‖² = variance_coef·‖g‖²"


def test_compressed_gd_holds():
    D = derive().require()
    assert sum(s.kind == "symbolic" for s in D.steps) >= 12
    for case in ("Rand-1 (d = 3)", "Rand-2 (d = 4)", "Perm-2 (n = 2, d = 4)"):
        assert any(s.name.startswith(f"{case}: {BOUND}") for s in D.steps), case


@pytest.mark.parametrize("kw, failing", [
    (dict(variance_coef=omega / 2), (BOUND, TIGHT)),                           # too small: the bound fails
    (dict(variance_coef=omega - sp.Rational(1, 10)), (BOUND, TIGHT)),
    (dict(variance_coef=omega + 1), (TIGHT,)),                                 # valid but not the smallest
    (dict(gamma_power=sp.Integer(1)), ("(35): ‖x⁺ − x*‖² = γ²‖g(x*)‖²",)),
    (dict(gamma_power=sp.Integer(3)), ("(35): ‖x⁺ − x*‖² = γ²‖g(x*)‖²",)),
])
def test_compressed_gd_mutations_fail(kw, failing):
    D = derive(**kw)
    for name in failing:
        assert D.failing(name, "disproved"), name
    if failing[0] in (BOUND, TIGHT):  # every enumerated case refutes it, not just one
        assert len(D.failing(failing[0], "disproved")) == 3
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        D.require()
