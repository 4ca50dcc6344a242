"""§4 estimator (26)–(27) under (23): g = B̄x − (Cb)‾, E[B̄] = I, E[(Cb)‾] = D̃b̃/√n,
E[g] = L̄⁻¹∇f(x) + h with h = L̄⁻¹b̄ − D̃b̃/√n (holds as printed; every decisive step general in n)."""

import pytest
import sympy as sp
from derivation_asserts import assert_disproved

from isttheory.derivations.estimator_bias import N, derive

#: zero at the cross-check sizes n = 2, 3, non-zero in general: a wrong constant + Z agrees where the
#: fixed-size steps look
Z = (N - 2) * (N - 3)


def test_estimator_bias_holds():
    d = derive().require()
    assert d.strength == "PROVED" and not d.weakest()
    assert sum(s.kind == "general" for s in d.steps) >= 6
    assert any(s.kind == "fixed-size" for s in d.steps) and any(s.kind == "numeric" for s in d.steps)
    assert all(s.role == "evidence" for s in d.steps if s.kind != "general")


@pytest.mark.parametrize("kw, failing", [
    (dict(bias_scale=1 / N), ("E[(Cb)‾] = bias_scale", "permutations enumerated")),  # 1/n instead of 1/√n
    # √3/n = 1/√n at n = 3 only: the general step catches it (and so does the n = 2 cross-check)
    (dict(bias_scale=sp.sqrt(3) / N), ("E[(Cb)‾] = bias_scale", "E[g] = E[B̄]x − E[(Cb)‾]", "n = d = 2")),
    (dict(h_sign=-1), ("E[g] = L̄⁻¹∇f(x) + h",)),  # h with the opposite sign
    (dict(scale=N), ("E[C̃_i L_i C̃_i] = I for every client", "E[B̄] = (1/n)Σ_i")),
    (dict(ebar=N), ("E[B̄] = (1/n)Σ_i",)),
    (dict(dtb_power=-1), ("E[(Cb)‾] = bias_scale",)),  # D_i^{-1} instead of D_i^{-1/2}
])
def test_estimator_bias_mutations_fail(kw, failing):
    assert_disproved(derive(**kw), failing, first=False)


@pytest.mark.parametrize("kw, general", [
    (dict(bias_scale=1 / sp.sqrt(N) + Z), "E[(Cb)‾] = bias_scale"),
    (dict(scale=sp.sqrt(N) + Z), "E[C̃_i L_i C̃_i] = I for every client"),
    (dict(ebar=1 + Z), "E[B̄] = (1/n)Σ_i"),
])
def test_estimator_bias_general_steps_catch_what_the_fixed_sizes_miss(kw, general):
    """A wrong constant that agrees with the right one at n = 2, 3: every fixed-size cross-check holds, the general
    step is disproved."""
    d = derive(**kw)
    assert d.failing(general, "disproved")
    assert all(s.holds for s in d.steps if s.kind == "fixed-size")


def test_sum_over_clients_uses_each_clients_entry_and_is_guarded(monkeypatch):
    """Σ_i carries each client's own (L_i)_jj (an indexed symbol): a scale whose client term depends on it
    (√n/(L_i)_jj) fails the guard (client i's term ≠ client i′'s) and E[B̄] = I, instead of one ℓ_j standing for every
    client's entry."""
    import math
    import operator

    import isttheory.derivations.estimator_bias as EBM

    d = derive()
    assert any("E[(C_iMC_i)_jk]" in p and "E[(C_ib_i)_j]" in p for p in d.premises)
    assert d.failing("the sum over clients is of one form") == []

    def bad(n, L_jj, sqrt=math.sqrt, divide=operator.truediv):
        return divide(sqrt(n), L_jj)

    monkeypatch.setattr(EBM, "scale_23", bad)
    d = derive(sizes=())
    assert d.failing("the sum over clients is of one form", "disproved")
    assert d.failing("E[B̄] = (1/n)Σ_i E[C̃_i L_i C̃_i] = ebar·I")
