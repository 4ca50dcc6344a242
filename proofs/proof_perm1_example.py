"""Perm-1 example: n = d (not d²), E[B̄] = Σ D_i = nD̄; (17) equals (14)/n only in the homogeneous case;
heterogeneously E[B̄L̄B̄] = n²L̄∘E[vvᵀ] ⪰ n²D̄L̄D̄, so (17) is necessary but not sufficient."""

import re

import pytest

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.perm1_example import d_s, derive


def test_perm1_example_holds():
    d = derive().require()
    assert sum(s.kind == "symbolic" for s in d.steps) >= 10
    finding = next(s for s in d.steps if s.name.startswith("finding"))
    assert finding.holds and "θ₁₇ < θ*" in finding.detail


@pytest.mark.parametrize("kw, failing", [
    (dict(n_rel=d_s**2), "Perm-1: q = d/n = 1"),              # our copy's "n = d²"
    (dict(ebar_scale=d_s**2), "E[B̄] = ebar_scale · D̄"),       # E[B̄] = d² D̄
    (dict(correction=0), "E[B̄L̄B̄] = n² L̄ ∘ E[vvᵀ]"),          # dropping the heterogeneous correction
])
def test_perm1_example_mutations_fail(kw, failing):
    with pytest.raises(ProofFailure, match=re.escape(failing)):
        derive(**kw).require()
