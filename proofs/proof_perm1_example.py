"""Perm-1 example: n = d (not d²), E[B̄] = Σ D_i = nD̄; (17) equals (14)/n only in the homogeneous case;
heterogeneously E[B̄L̄B̄] = n²L̄∘E[vvᵀ] ⪰ n²D̄L̄D̄, so (17) is necessary but not sufficient.

The decisive steps are general (symbolic n); each formula has a mutation knob whose wrong value is refuted
by a general step, and most wrong values agree with the right one at n = 3, where the fixed-size
evidence (engine, enumeration of the 6 permutations) still holds: the fixed-size check alone would miss them.
"""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.perm1_example import _exact_instance, _probabilities, d_s, derive, n_s


@pytest.fixture(scope="module")
def default():
    return derive()


def test_perm1_example_holds(default):
    d = default.require()
    assert d.strength == "PROVED", d.weakest()
    assert d.counts()["general"] >= 14
    assert all(s.kind == "general" for s in d.steps if s.role == "decisive")
    assert d.refutation_certified is True
    finding = next(s for s in d.refutations() if s.name.startswith("(17) is not sufficient"))
    assert finding.exact and "θ₁₇ = 3" in finding.detail and "= 5/18" in finding.detail
    lemma = next(s for s in d.refutations() if "eq17-printed" in s.name)
    assert lemma.exact and "eq17-printed fails" in lemma.detail and "1.6666666666" in lemma.detail
    names = {f"engine: E[B̄] = ebar_scale · D̄ (n = d = {k}, symbolic L_i)" for k in (2, 3, 4)}
    assert {s.name for s in d.steps} >= names


def test_perm1_probabilities_from_inclusion_model():
    P1, P2, PX, PW = _probabilities()
    assert [sp.simplify(P1 - 1 / n_s), P2, sp.simplify(PX - 1 / (n_s * (n_s - 1))), PW] == [0, 0, 0, 0]


def test_exact_instance_margins():
    X = _exact_instance()
    assert X["th17"] and X["th14"]
    assert X["x14"] == -5 and X["margin15"] == sp.Rational(5, 18)
    assert X["margin15"] == (X["s"] - X["th17v"] * X["w"]) / (2 * X["th17v"] ** 2)  # the general step (15)


n, d = n_s, d_s
#: (knob, the general step it must break, the n = 3 evidence step that still holds (None: none agrees at 3))
MUTATIONS = [
    (dict(n_rel=d**2), "Perm-1: solving d = q·n", None),                                  # our copy's "n = d²"
    (dict(bbar_scale=n**2 - 2 * n), "B̄ = bbar_scale · Diag(v)", "enumeration: B̄ = bbar_scale"),
    (dict(ebar_scale=n**2 - 2 * n), "E[B̄] = ebar_scale · D̄ (every n", "engine: E[B̄] = ebar_scale · D̄ (n = d = 3"),
    (dict(ebar_scale=sp.Integer(3)), "E[B̄] = ebar_scale · D̄ (every n", "engine: E[B̄] = ebar_scale · D̄ (n = d = 3"),
    (dict(diag_weight=3 / n**2), "E[v_j²] = diag_weight", "enumeration: E[vvᵀ]"),
    (dict(cross_den=2 * n * (n - 2)), "E[v_jv_k] = (n²D̄_jD̄_k", "enumeration: E[vvᵀ]"),          # = n(n−1) at n = 3
    (dict(blb_scale=3 * n), "E[B̄L̄B̄] = blb_scale · L̄ ∘ E[vvᵀ]", "engine: E[B̄L̄B̄] = blb_scale"),
    (dict(cov_diag=2 * n - 3), "Cov(v) = E[(v − D̄)(v − D̄)ᵀ]", "enumeration: Cov(v)"),
    (dict(cov_den=2 * (n - 2)), "Cov(v) = E[(v − D̄)(v − D̄)ᵀ]", "enumeration: Cov(v)"),
    (dict(correction=0), "certificate:", None),                       # dropping the heterogeneous term
    (dict(red_factor=sp.Integer(3)), "θW̄ − E[B̄L̄B̄] = red_factor", "engine, homogeneous"),
    (dict(eq17_n=sp.Integer(3)), "homogeneous (L_i ≡ L)", "engine, homogeneous"),
    (dict(descent_den=3), "at γ = 1/θ: E f(x⁺)", None),
    # a wrong weight of the diagonal E[v_j²] only (every entry j ≠ k agrees): caught by the j = k residuals
    (dict(vv_diag=2), "θW̄ − E[B̄L̄B̄] = red_factor", None),
    (dict(vv_diag=(n - 2) * (n - 3) + 1), "homogeneous (L_i ≡ L)", None),   # = 1 at n = 2, 3
]


@pytest.mark.parametrize("kw, general, fixed", MUTATIONS, ids=[str(m[0]) for m in MUTATIONS])
def test_perm1_example_mutations_fail(kw, general, fixed):
    d = derive(**kw)
    bad = d.failing(general, "disproved")
    assert bad and all(s.kind == "general" and s.role == "decisive" for s in bad), [s.name for s in d.failed()]
    if fixed is not None:  # the wrong value agrees with the right one at n = 3: the fixed-size step misses it
        ev = [s for s in d.steps if s.name.startswith(fixed)]
        assert ev and all(s.holds and s.kind == "fixed-size" and "n=3" in s.sizes for s in ev), fixed
    with pytest.raises(ProofFailure, match=re.escape(bad[0].name[:20])):
        d.require()


def test_ebar_scale_three_passes_only_at_three():
    d = derive(ebar_scale=sp.Integer(3))
    assert not d.failing("engine: E[B̄] = ebar_scale · D̄ (n = d = 3")
    assert d.failing("engine: E[B̄] = ebar_scale · D̄ (n = d = 2", "disproved")


def test_diagonal_only_mutation_is_caught_by_the_diagonal_entries():
    """vv_diag changes only the j = k entries of the reductions (14) ⇔ nL̄∘E[vvᵀ] ⪯ … and (14) ⇔ (17): before the
    diagonal residuals were added both steps checked j ≠ k only and held for every vv_diag."""
    d = derive(vv_diag=sp.Rational(1, 2))
    failed = {s.name.split(",")[0] for s in d.failing("", "disproved")}
    assert failed == {"θW̄ − E[B̄L̄B̄] = red_factor · [(θ/2)(L̄D̄ + D̄L̄) − nL̄∘E[vvᵀ]]",
                      "homogeneous (L_i ≡ L): Cov(v) = 0 and θW̄ − E[B̄L̄B̄] = n[(θ/2)(LD + DL) − eq17_n·DLD]"}, failed
    assert all(s.kind == "general" and s.role == "decisive" for s in d.failed())


def test_per_draw_formula_is_a_premise(default):
    (p,) = default.premises
    assert "B̄_jk = (1/n)Σ_i T²π_ijπ_ik(L_i)_jk" in p and "n = d = 3" in p
    (s,) = [s for s in default.steps if s.name.startswith("E[B̄L̄B̄] = blb_scale")]
    assert "Σ_pΣ_q" in s.name and "j = k" in s.name
