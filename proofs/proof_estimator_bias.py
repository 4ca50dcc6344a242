"""§4 estimator (26)–(27) under (23): g = B̄x − (Cb)‾, E[B̄] = I, E[(Cb)‾] = D̃b̃/√n,
E[g] = L̄⁻¹∇f(x) + h with h = L̄⁻¹b̄ − D̃b̃/√n (holds as printed)."""

import pytest

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.estimator_bias import N, derive


def test_estimator_bias_holds():
    d = derive().require()
    assert sum(s.kind == "symbolic" for s in d.steps) >= 6
    assert any(s.kind == "numeric" for s in d.steps)


@pytest.mark.parametrize("kw, failing", [
    (dict(bias_scale=1 / N), ("E[(Cb)‾] = bias_scale", "permutations enumerated")),  # 1/n instead of 1/√n
    (dict(h_sign=-1), ("E[g] = L̄⁻¹∇f(x) + h",)),  # h with the opposite sign
])
def test_estimator_bias_mutations_fail(kw, failing):
    d = derive(**kw)
    for name in failing:
        assert d.failing(name, "disproved"), name
    with pytest.raises(ProofFailure):
        d.require()
