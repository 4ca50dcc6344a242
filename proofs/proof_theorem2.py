"""Theorem 2 (29)–(30), corrected: ‖h‖² in the L̄ norm, coefficient 1, any γ ∈ (0, 1];
exact limit ‖h‖²_L̄ + γσ²/(2−γ); the printed L̄² version refuted exactly with an admissible β.

Every decisive step is general; the mutations below use wrong values that agree with the right ones where
the fixed-size or instance steps look (γ ∈ {1/10, ½, 1}, n = d ∈ {2, 3}), so only a general step catches them."""

import math
import operator
import re

import pytest
import sympy as sp

from isttheory import constants
from isttheory.derivations.base import ProofFailure
from isttheory.derivations.theorem2 import beta, derive, g_
from isttheory.sketches import precond

# vanishes at the γ the exact-trajectory evidence uses (1/10, ½, 1)
AT_CHECKED_GAMMAS = (g_ - 1) * (2 * g_ - 1) * (10 * g_ - 1)


@pytest.fixture(scope="module")
def D():
    return derive()


def test_theorem2_corrected_holds_and_is_proved(D):
    D.require()
    assert D.strength == "PROVED" and not D.weakest() and not D.loose()
    assert D.counts()["general"] >= 20
    assert all(s.verdict == "holds" for s in D.steps)
    assert all(s.role in ("evidence", "refutation") for s in D.steps if s.kind != "general")
    for fragment in ("at γ = 1 the per-step bound", "sharp: at x = x^∞", "exact neighbourhood increases with γ",
                     "the paper's coefficient decreases in β"):
        (s,) = [s for s in D.steps if s.name.startswith(fragment)]
        assert s.kind == "general" and s.role == "decisive" and s.holds, fragment


def test_printed_norm_refuted_exactly(D):
    """ERRATA thm2-norm: the printed (30) fails on an exact rational instance; the β it uses is admissible."""
    assert D.refutation_certified is True
    (ref,) = D.refutations()
    assert ref.kind == "numeric" and ref.exact and "exact rational" in ref.detail
    assert "lhs − rhs = 29247675846233/1097546240000" in ref.detail
    adm = [s for s in D.steps if s.name.startswith("the β used, thm2_beta(γ), is admissible")]
    assert adm and adm[0].kind == "general" and adm[0].holds


@pytest.mark.parametrize("kw,step", [
    (dict(h_coef=sp.Rational(1, 2)), "h coefficient of the corrected (30)"),
    (dict(h_coef=sp.Rational(1, 2)), "corrected (30) with these coefficients on exact trajectories"),
    (dict(sigma_coef=g_ / 2), "σ² coefficient of the corrected (30)"),
    (dict(limit_sigma_coef=g_ / 2), "stationary"),
    (dict(limit_sigma_coef=g_**2), "stationary"),                     # = γ/(2−γ) at γ = 1
    (dict(descent_coef=g_ * (1 - g_ / 2) + AT_CHECKED_GAMMAS), "E f(x⁺) − f(x) = −γ(1−γ/2)F"),
    (dict(cross_coef=g_ * (1 - g_) + AT_CHECKED_GAMMAS), "E f(x⁺) − f(x) = −γ(1−γ/2)F"),
    (dict(noise_coef=g_**2 / 2 + AT_CHECKED_GAMMAS), "E f(x⁺) − f(x) = −γ(1−γ/2)F"),
    (dict(gamma_cb=(1 - beta) / (1 + beta)), "(29) holds with equality at β = constants.thm2_beta"),
    (dict(paper_coef=(1 - g_) / beta + g_), "paper's 2β⁻¹(1−γ) + γ − 1"),
    (dict(paper_coef=(1 - g_) / beta + g_), "lemma_thm2-printed.toml and lemma_thm2-paper-l-norm.toml"),
])
def test_theorem2_mutations_fail(kw, step):
    d = derive(**kw)
    numeric = step.startswith("corrected (30) with these")
    assert d.failing(step, "failed" if numeric else "disproved"), [(s.name, s.verdict) for s in d.failed()]
    with pytest.raises(ProofFailure, match=re.escape(step)):
        d.require()


@pytest.mark.parametrize("kw", [dict(descent_coef=g_ * (1 - g_ / 2) + AT_CHECKED_GAMMAS),
                                dict(noise_coef=g_**2 / 2 + AT_CHECKED_GAMMAS)])
def test_mutation_agreeing_at_checked_gammas_is_caught_only_by_the_general_step(kw):
    d = derive(**kw)
    assert d.failing("E f(x⁺) − f(x)", "disproved")
    assert not d.failing("on exact trajectories")   # the instances (γ ∈ {1/10, ½, 1}) cannot see it


@pytest.mark.parametrize("kw,fragment", [(dict(h_coef=sp.Integer(2)), "h coefficient"),
                                         (dict(sigma_coef=sp.Integer(1)), "σ² coefficient")])
def test_valid_looser_constant_is_loose_not_disproved(kw, fragment):
    """h_coef = 2 (or σ² coefficient 1 ≥ γ) is a valid, looser bound: loose with the sharp constant beside it."""
    d = derive(**kw)
    assert d.holds and not d.disproved()
    (s,) = d.loose()
    assert fragment in s.name and "sharp constant is 1" in s.detail


def test_doubled_beta_makes_the_refutation_unsound_and_a_step_fails(monkeypatch):
    """β = 2·thm2_beta(γ) is 1/3 at γ = ½ where (29) admits only β ≤ 1/6: the admissibility step fails."""
    orig = constants.thm2_beta
    monkeypatch.setattr(constants, "thm2_beta", lambda g: 2 * orig(g))
    d = derive()
    assert d.failing("the β used, thm2_beta(γ), is admissible", "disproved")
    assert d.failing("(29) holds with equality at β = constants.thm2_beta", "disproved")
    assert d.failing("lemma_thm2-printed.toml and lemma_thm2-paper-l-norm.toml", "disproved")
    with pytest.raises(ProofFailure):
        d.require()


def test_scale_mutation_agreeing_at_n_2_and_3_is_caught_by_the_general_step(monkeypatch):
    """(23)'s scale times (n−2)(n−3)+1: right at n = 2, 3 (the enumerated sizes), wrong for every other n."""
    orig = precond.scale_23

    def bad(n, L_jj, sqrt=math.sqrt, divide=operator.truediv):
        return orig(n, L_jj, sqrt, divide) * ((n - 2) * (n - 3) + 1)

    monkeypatch.setattr(precond, "scale_23", bad)
    d = derive()
    assert d.failing("(23): C̃_iL_iC̃_i", "disproved")
    assert all(s.holds for s in d.steps if s.name.startswith("B̄ = (1/n)Σ C̃_i L_i C̃_i = I"))


def test_premises_stated_and_the_definition_of_sigma2_is_not_support(D):
    """Σ_i e_{π_i}e_{π_i}ᵀ = I and linearity/independence are premises; the step restating σ² = E zᵀL̄z is
    evidence (it cannot fail)."""
    assert any("Σ_i e_{π_i}e_{π_i}ᵀ = I" in p and "permutation" in p for p in D.premises)
    assert any("linear" in p and "independent of x" in p and "σ²" in p for p in D.premises)
    (s,) = [s for s in D.steps if s.name.startswith("(26) with B̄ = I")]
    assert s.role == "evidence" and s.holds


@pytest.mark.parametrize("kw", [dict(descent_coef=g_ * (1 - g_ / 2) + AT_CHECKED_GAMMAS),
                                dict(cross_coef=g_ * (1 - g_) + AT_CHECKED_GAMMAS)])
def test_summed_30_is_telescoped_from_the_one_step_expectation(kw):
    """(30) is the sum of the per-step slacks with the drop telescoped from the exact one-step expectation, so a
    wrong one-step coefficient no longer leaves the summed step holding."""
    assert derive().failing("(30) right side − left side") == []
    d = derive(**kw)
    assert d.failing("(30) right side − left side = (2/(γK))")
    assert d.failing("E f(x⁺) − f(x) = −γ(1−γ/2)F", "disproved")
