"""Def. 1 (3), Rand-q (4), Perm-q (7): unbiased; ω = d/q − 1 (Rand-q) and ω = n − 1 (Perm-q), both tight."""

import re

import pytest

from isttheory.derivations.base import ProofFailure
from isttheory.derivations.def1 import d, derive, n, q

RAND = ("Rand-q: E[c_j²] − 1 = ω", "Rand-q: E[(c_j − 1)²] = p(d/q − 1)² + (1 − p) = ω",
        "Rand-1, d = 3: E‖Cx − x‖² = ω‖x‖² for every x (tight)", "RandQ.omega() = ω formula")
PERM = ("Perm-q: E[(c_j − 1)²] = (1/n)(n − 1)² + (1 − 1/n) = ω",
        "Perm-1, n = 3: E‖C_i x − x‖² = ω‖x‖² for every client (tight)", "Permutation.omega() = ω formula")


def test_def1_holds():
    D = derive().require()
    assert sum(s.kind == "symbolic" for s in D.steps) >= 15


@pytest.mark.parametrize("kw, failing", [
    (dict(omega_rand=d / q), RAND),        # ω = d/q: off by one
    (dict(omega_rand=d / q - 2), RAND),
    (dict(omega_perm=n), PERM),            # ω = n
    (dict(omega_perm=n - 2), PERM),
])
def test_def1_mutations_fail(kw, failing):
    D = derive(**kw)
    for name in failing:
        verdict = "failed" if name.endswith("formula") else "disproved"  # the library cross-check is numeric
        assert D.failing(name, verdict), name
    with pytest.raises(ProofFailure, match=re.escape(failing[0])):
        D.require()
