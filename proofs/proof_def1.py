"""Def. 1 (3), Rand-q (4), Perm-q (7): unbiased; ω = d/q − 1 (Rand-q) and ω = n − 1 (Perm-q), both tight.

Every decisive step is general in d, q, n and x; enumerations at fixed sizes and the library's ω are evidence."""

import re

import pytest

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.def1 import d, derive, n, q

RAND_BOUND = "Rand-q: (3) E‖Cx − x‖² ≤ ω‖x‖² with ω = omega_rand"
PERM_BOUND = "Perm-q: (3) E‖C_i x − x‖² ≤ ω‖x‖² with ω = omega_perm"
RAND_ENUM, PERM_ENUM = ("Rand-1, d = 3", "Rand-2, d = 4", "Rand-3, d = 4"), ("Perm-1, n = 2", "Perm-2, n = 2",
                                                                             "Perm-1, n = 3")


def test_def1_holds_and_is_proved():
    D = derive().require()
    assert D.strength == "PROVED" and not D.weakest() and not D.loose()
    assert D.counts()["general"] >= 12
    assert all(s.role == "evidence" for s in D.steps if s.kind != "general")


@pytest.mark.parametrize("kw, failing", [
    (dict(omega_rand=d / q - 2), (RAND_BOUND,) + RAND_ENUM),     # too small: not a Def. 1 constant
    (dict(omega_perm=n - 2), (PERM_BOUND,) + PERM_ENUM),
    (dict(incl_rand=q / d + (d - 3) * (d - 4)), ("Rand-q: P(j ∈ S) = C(d−1, q−1)/C(d, q) = q/d",
                                                 "Rand-q: E[c_j] = P(j ∈ S)·(d/q) = 1")),
    (dict(incl_perm=2 / n), ("Perm-q: P(j ∈ S_i) = q/d = 1/n", "Perm-q: E[c_j] = (1/n)·n = 1")),
    (dict(scale_rand=d / q + d * (d - 3) * (d - 4) / q), ("Rand-q: E[c_j] = P(j ∈ S)·(d/q) = 1",
                                                          "Rand-q: for every d and x ∈ ℝ^d")),
    (dict(scale_perm=n + 1), ("Perm-q: E[c_j] = (1/n)·n = 1", "Perm-q: for every n, q, client i")),
])
def test_def1_mutations_fail(kw, failing):
    D = derive(**kw)
    for name in failing:
        assert D.failing(name, "disproved"), (name, [(s.name, s.verdict) for s in D.failed()])
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        D.require()


@pytest.mark.parametrize("kw, bound, enums, library", [
    (dict(omega_rand=d / q - 1 - (d - 3) * (d - 4) / q), RAND_BOUND, RAND_ENUM, "RandQ.omega() = ω formula"),
    (dict(omega_perm=n - 1 - (n - 2) * (n - 3)), PERM_BOUND, PERM_ENUM, "Permutation.omega() = ω formula"),
])
def test_omega_agreeing_at_the_enumerated_sizes_is_caught_by_the_general_bound(kw, bound, enums, library):
    """Right at the enumerated sizes (d ∈ {3, 4}; n ∈ {2, 3}), wrong elsewhere: the fixed-size steps hold, the
    general bound is disproved (and the library's ω, checked at larger sizes, disagrees)."""
    D = derive(**kw)
    assert D.failing(bound, "disproved")
    assert all(s.holds for s in D.steps if s.name.startswith(enums))
    assert D.failing(library, "failed")


@pytest.mark.parametrize("kw, bound, enums, library", [
    (dict(omega_rand=d / q), RAND_BOUND, RAND_ENUM, "RandQ.omega() = ω formula"),
    (dict(omega_perm=n), PERM_BOUND, PERM_ENUM, "Permutation.omega() = ω formula"),
])
def test_larger_omega_is_loose_but_not_the_sketch_omega(kw, bound, enums, library):
    """ω = d/q (or n) is a valid Def. 1 constant: the general bound is loose, not disproved; it is not the ω of
    Rand-q/Perm-q (the enumerated variance is smaller, the library's ω differs)."""
    D = derive(**kw)
    (loose,) = D.loose()
    assert loose.name.startswith(bound) and "sharp constant" in loose.detail
    assert not D.failing(bound)
    for name in enums:
        assert D.failing(name, "disproved"), name
    assert D.failing(library, "failed")
