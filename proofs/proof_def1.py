"""Def. 1 (3), Rand-q (4), Perm-q (7): unbiased; ω = d/q − 1 (Rand-q) and ω = n − 1 (Perm-q), both tight."""

import pytest

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.def1 import d, derive, n, q


def test_def1_holds():
    D = derive().require()
    assert sum(s.kind == "symbolic" for s in D.steps) >= 15


@pytest.mark.parametrize("kw", [dict(omega_rand=d / q), dict(omega_rand=d / q - 2), dict(omega_perm=n),
                                dict(omega_perm=n - 2)])
def test_def1_mutations_fail(kw):
    D = derive(**kw)
    assert any(s.kind == "symbolic" for s in D.failed())
    with pytest.raises(ProofFailure):
        D.require()
