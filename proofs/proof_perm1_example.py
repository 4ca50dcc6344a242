"""Perm-1 example: n = d (not d²), E[B̄] = Σ D_i = nD̄; (17) equals (14)/n only in the homogeneous case;
heterogeneously E[B̄L̄B̄] = n²L̄∘E[vvᵀ] ⪰ n²D̄L̄D̄, so (17) is necessary but not sufficient."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.perm1_example import d_s, derive, n_s


def test_perm1_example_holds():
    d = derive().require()
    assert sum(s.kind == "symbolic" for s in d.steps) >= 10
    finding = next(s for s in d.steps if s.name.startswith("finding"))
    assert finding.holds and "θ₁₇ < θ*" in finding.detail
    assert {s.name for s in d.steps} >= {f"E[B̄] = ebar_scale · D̄ (n = d = {k})" for k in (2, 3, 4)}


@pytest.mark.parametrize("kw, failing", [
    (dict(n_rel=d_s**2), ("Perm-1: q = d/n = 1",)),                                 # our copy's "n = d²"
    (dict(ebar_scale=d_s**2), ("E[B̄] = ebar_scale · D̄ (n = d = 2)", "E[B̄] = ebar_scale · D̄ (n = d = 3)")),
    # the constant 3 equals n at n = d = 3 only: the other sizes refute it
    (dict(ebar_scale=sp.Integer(3)), ("E[B̄] = ebar_scale · D̄ (n = d = 2)", "E[B̄] = ebar_scale · D̄ (n = d = 4)")),
    (dict(ebar_scale=n_s**2 - 2 * n_s), ("E[B̄] = ebar_scale · D̄ (n = d = 2)",)),   # = n at n = 3 only
    (dict(correction=0), ("E[B̄L̄B̄] = n² L̄ ∘ E[vvᵀ]",)),                          # dropping the heterogeneous term
])
def test_perm1_example_mutations_fail(kw, failing):
    d = derive(**kw)
    for name in failing:
        assert d.failing(name, "disproved"), name
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        d.require()


def test_ebar_scale_three_passes_only_at_three():
    d = derive(ebar_scale=sp.Integer(3))
    assert not d.failing("E[B̄] = ebar_scale · D̄ (n = d = 3)")
