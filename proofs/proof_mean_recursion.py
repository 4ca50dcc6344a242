"""§4.1 mean recursion (28), symbolic in n: E[B̄] = I, x^∞ = (1/(n√n)) Σ D_i^{-1/2} b_i, the closed form, the entry
bound; and the finding that the bias does NOT vanish as n = d → ∞: for L_i = δI, h = (1 − √(δ/n)) x* exactly, so
‖h‖/‖x*‖ → 1 with δ fixed; under the normalisation "mean diagonal = n" it is 0 for L_i = nI but a constant
2 − √a − √(2 − a) (squared) for a two-level diagonal family."""

import math
import operator

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.mean_recursion import N, a_, alpha, delta, derive, g_
from isttheory.sketches import precond


def test_mean_recursion_holds_and_is_general():
    D = derive().require()
    assert D.strength == "PROVED", [s.name for s in D.weakest()]
    assert D.counts()["general"] >= 15
    # every symbolic step states its reach; trends, Monte Carlo and the fixed-size engine are evidence only
    assert not any("unstated" in s.sizes for s in D.steps)
    assert all(s.role == "evidence" for s in D.steps if s.kind != "general")
    assert any(s.name.startswith("each term M ∓ a_ij ≥ 0") and s.verdict == "holds" for s in D.steps)
    # the paper's "bias vanishes" is refuted by a general step (certified), in both scalings
    assert D.refutation_certified is True
    assert [s.name for s in D.refutations() if s.holds] == [s.name for s in D.refutations()]
    assert len(D.refutations()) == 2


# (knob, steps that must be disproved, steps that must still hold: the fixed-size check that misses the mutation)
@pytest.mark.parametrize("kw, disproved, still_holds", [
    (dict(limit_coef=1 / N), ("x^∞_j = E[(Cb)‾]_j",), ()),  # 1/n instead of 1/(n√n)
    # agrees with 1/(n√n) at n = 3: the engine at n = d = 3 misses it, the general step does not
    (dict(limit_coef=1 / (3 * sp.sqrt(N))), ("x^∞_j = E[(Cb)‾]_j",), ("engine, n = d = 3",)),
    (dict(exponent_shift=1), ("E[x⁰] = x⁰",), ()),  # closed form with (1−γ)^{k+1}
    (dict(step_factor=1 - g_ / 2), ("(28), every n: E[x^{k+1}]_j", "closed form satisfies E[x^{k+1}]",
                                    "|1 − γ| < 1 ⇔ γ ∈ (0, 2)"), ()),
    (dict(entry_bound=sp.sqrt(3) / N), ("entry_bound·M ∓ x^∞_j",), ()),  # = 1/√n at n = 3
    (dict(entry_bound=1 / N), ("entry_bound·M ∓ x^∞_j",), ()),
    (dict(scaling_factor=alpha), ("f → αf",), ()),
    # agrees with 1 − √(δ/n) at n = 3
    (dict(iso_ratio=1 - sp.sqrt(3 * delta) / N), ("L_i = δI (any b_i), every n = d: h = x* − x^∞",), ()),
    (dict(two_level_bias2=2 * (2 - sp.sqrt(a_) - sp.sqrt(2 - a_))), ("normalised — n = 2m",), ()),
    # the paper's "bias vanishes" (0), and limits near the true 1 that the seed-averaged trends did not reject
    (dict(relative_bias_limit=0.0), ("L_i = δI with δ fixed as n = d → ∞",), ()),
    (dict(relative_bias_limit=0.5), ("L_i = δI with δ fixed as n = d → ∞",), ()),
    (dict(relative_bias_limit=0.9), ("L_i = δI with δ fixed as n = d → ∞",), ("study trend: |‖h‖/‖x*‖ − 9/10|",)),
    (dict(relative_bias_limit=0.95), ("L_i = δI with δ fixed as n = d → ∞",), ("study trend: |‖h‖/‖x*‖ − 19/20|",)),
])
def test_mean_recursion_mutations_fail(kw, disproved, still_holds):
    D = derive(**kw)
    for name in disproved:
        assert D.failing(name, "disproved"), (name, [(s.name, s.verdict) for s in D.failed()])
        assert all(s.kind == "general" for s in D.failing(name))
    for name in still_holds:
        held = [s for s in D.steps if s.name.startswith(name)]
        assert held and all(s.holds for s in held), name
    with pytest.raises(ProofFailure):
        D.require()


def test_mean_recursion_evidence_catches_the_paper_claim():
    """The seed-averaged trends (evidence) also reject the limits 0 and 0.5, as before."""
    D = derive(relative_bias_limit=0.0)
    assert D.failing("study trend: |‖h‖/‖x*‖ − 0|") and D.failing("study: |‖h‖/‖x*‖ − 0|")


@pytest.mark.parametrize("where", ["module", "code"])
def test_scale_mutation_wrong_only_for_n_ge_4_is_caught_by_a_general_step(monkeypatch, where):
    """(23)'s scale times (n−2)(n−3) + 1: right at n = 2, 3 (the engine cross-check is at n = d = 3), wrong for every
    other n. The decisive steps read precond.scale_23 (not a hard-coded √n/√ℓ), so a general step fails. ``code``
    replaces the function's code object, so that every binding (``from … import scale_23`` copies too) sees it,
    as the reviewer's patch of the first review did."""
    orig = precond.scale_23

    def bad(n, L_jj, sqrt=math.sqrt, divide=operator.truediv):
        return divide(sqrt(n), sqrt(L_jj)) * (1 + (n - 2) * (n - 3))

    if where == "module":
        monkeypatch.setattr(precond, "scale_23", bad)
    else:
        monkeypatch.setattr(orig, "__code__", bad.__code__)
    D = derive()
    assert D.failing("(23), every n = d: E[B̄]_jj", "disproved")
    assert D.failing("x^∞_j = E[(Cb)‾]_j", "disproved")
    assert all(s.kind == "general" and s.role == "decisive" for s in D.failed() if s.kind != "numeric")
    assert all(s.holds for s in D.steps if s.name.startswith("engine, n = d = 3"))
    with pytest.raises(ProofFailure):
        D.require()


def test_entrywise_expectations_are_a_premise():
    (p,) = derive().premises
    assert "E[(C_iMC_i)_jk] = s_ij s_ik P(j, k ∈ S_i) M_jk" in p and "E[(C_ib_i)_j]" in p
