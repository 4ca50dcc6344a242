"""Identity sketch: θ = λ_max(L̄) is the sharp constant in (14); (15) is GD's 2λ_max(f⁰ − f^K)/K;
(16) gives the rate 1 − λ_min/λ_max. Every decisive step is general (any n, d, spectrum)."""

import re

import pytest

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.identity_example import derive, lam_max, lam_min


def test_identity_example_holds():
    d = derive().require()
    assert d.strength == "PROVED", d.weakest()
    assert d.counts()["general"] >= 12 and not d.loose()
    assert all(s.role == "evidence" for s in d.steps if s.kind != "general")


@pytest.mark.parametrize("kw, failing", [
    (dict(theta=lam_min), "(14) constant theta"),
    (dict(gd_coef=lam_min), "(15) coefficient gd_coef"),
    (dict(rate=1 - lam_min**2 / lam_max), "(16) at γ = 1/λ_max"),
    (dict(rate=1 - lam_min / (2 * lam_max)), "(16) at γ = 1/λ_max"),   # valid for GD, but not Theorem 1's rate
    (dict(w_power=3), "W̄ = ½(L̄E[B̄] + E[B̄]L̄) = L̄^w_power"),
    (dict(blb_power=2), "E[B̄L̄B̄] = L̄^blb_power"),
])
def test_identity_example_mutations_fail(kw, failing):
    d = derive(**kw)
    bad = d.failing(failing, "disproved")
    assert bad and all(s.kind == "general" for s in bad), [s.name for s in d.failed()]
    with pytest.raises(ProofFailure, match=re.escape(failing)):
        d.require()


@pytest.mark.parametrize("kw, step", [
    (dict(theta=lam_max + 1), "(14) constant theta"), (dict(theta=2 * lam_max), "(14) constant theta"),
    (dict(gd_coef=2 * lam_max), "(15) coefficient gd_coef"),
])
def test_identity_example_larger_constants_are_loose_not_disproved(kw, step):
    d = derive(**kw).require()
    assert [s.name for s in d.loose()] == [next(s.name for s in d.steps if s.name.startswith(step))]


def test_identity_example_premises_and_no_tautology():
    """B̄ = L̄ is the definition (a premise, not a step that cannot fail: Identity·L·Identity is L on construction);
    the eigenvalue reduction is stated; the moment steps are matrix identities of symbolic size."""
    d = derive()
    assert any("C_i = I" in p and "B̄ = (1/n)Σ_i L_i = L̄" in p for p in d.premises)
    assert any(p.startswith("eigenvalue reduction") for p in d.premises)
    assert not any(s.name.startswith("C_i = I") for s in d.steps)
    moments = [s for s in d.steps if s.name.startswith(("W̄ = ½", "E[B̄L̄B̄] = L̄^", "θW̄ − E[B̄L̄B̄]"))]
    assert len(moments) == 3 and all("matrix symbols" in s.name and s.kind == "general" for s in moments)
