"""Identity sketch: θ = λ_max(L̄) is the smallest constant in (14); (15) is GD's 2λ_max(f⁰ − f^K)/K;
(16) gives the rate 1 − λ_min/λ_max."""

import re

import pytest

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.identity_example import derive, lam_max, lam_min


def test_identity_example_holds():
    d = derive().require()
    assert sum(s.kind == "symbolic" for s in d.steps) >= 10


@pytest.mark.parametrize("kw, failing", [
    (dict(theta=lam_min), ("(14) at θ = theta",)),
    (dict(theta=lam_max + 1), ("tight: at θ = theta − ε",)),   # admissible, not the smallest: θ − ε still feasible
    (dict(theta=2 * lam_max), ("tight: at θ = theta − ε",)),
    (dict(rate=1 - lam_min**2 / lam_max), ("rate is the GD condition-number rate",)),
    (dict(gd_coef=lam_min), ("(15) with γ = 1/θ",)),
])
def test_identity_example_mutations_fail(kw, failing):
    d = derive(**kw)
    for name in failing:
        assert d.failing(name, "disproved"), name
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        d.require()
