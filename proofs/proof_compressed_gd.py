"""(32)–(35): compressed GD has variance ≤ ω‖∇f‖² and fixed point x*; one IST step from x* moves away.

The identities are general; that one IST step moves away from x* is existential and rests on exact rational
certificates (numeric exact, decisive), so the derivation is CHECKED."""

import re

import pytest
import sympy as sp

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.compressed_gd import derive, omega

BOUND = "(34) E‖Cg − g‖² ≤ variance_coef·‖g‖² for every g"          # general, Rand-q and Perm-q
ENUM = "enumerated E‖Cg − g‖² ≤ variance_coef·‖g‖² for every g"       # evidence at three fixed sizes
POWER = "(35): ‖x⁺ − x*‖² = γ²‖g(x*)‖²"


def test_compressed_gd_holds():
    D = derive().require()
    assert not D.loose() and all(s.verdict == "holds" for s in D.steps)
    assert D.counts()["general"] >= 11
    assert len([s for s in D.steps if BOUND in s.name and s.kind == "general"]) == 2
    # PROVED: the existential claim (35) rests on exact witnesses, which prove an existence claim
    assert D.strength == "PROVED" and not D.weakest()
    witnesses = [s for s in D.steps if s.role == "witness"]
    assert len(witnesses) == 2 and all(s.kind == "numeric" and s.exact for s in witnesses)
    assert {s.name.split(":")[0] for s in witnesses} == {"(35) one IST step from x* moves away",
                                                          "(35) literally, Rand-2"}
    assert all(s.role == "evidence" for s in D.steps if s.kind == "fixed-size")


@pytest.mark.parametrize("kw, failing, count", [
    (dict(variance_coef=omega / 2), (BOUND, ENUM), (2, 3)),                  # too small: the bound fails
    (dict(variance_coef=omega - sp.Rational(1, 10)), (BOUND, ENUM), (2, 3)),
    (dict(variance_coef=omega - (omega - 1) * (omega - 2)), (BOUND,), (2,)),  # = ω at ω ∈ {1, 2} (the sizes enumerated)
    (dict(gamma_power=sp.Integer(1)), (POWER,), (1,)),
    (dict(gamma_power=sp.Integer(3)), (POWER,), (1,)),
])
def test_compressed_gd_mutations_fail(kw, failing, count):
    D = derive(**kw)
    for name, k in zip(failing, count, strict=True):
        assert len(D.failing(name, "disproved")) == k, (name, [(s.name, s.verdict) for s in D.failed()])
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        D.require()


def test_agreeing_mutation_passes_every_enumerated_size():
    """ω − (ω−1)(ω−2) equals ω at Rand-1 (ω = 2), Rand-2 and Perm-2 (ω = 1): only the general bound sees it."""
    D = derive(variance_coef=omega - (omega - 1) * (omega - 2))
    assert all(s.holds for s in D.steps if ENUM in s.name)
    assert len(D.failing(BOUND, "disproved")) == 2


def test_larger_constant_is_loose_not_disproved():
    D = derive(variance_coef=omega + 1)
    assert D.holds and not D.disproved()
    assert len(D.loose()) == 2 and all(BOUND in s.name and "sharp constant" in s.detail for s in D.loose())
