"""Assertions shared by the proof modules (imported by them; not collected: no ``proof_`` prefix)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from isttheory.derivations.base import Derivation, ProofFailure


def assert_disproved(d: Derivation, names: Sequence[str], *, first: bool = True) -> None:
    """A mutation test's verdict: every step named in ``names`` is *disproved* (an undecided step does not
    count), and ``require()`` raises ``ProofFailure`` — naming ``names[0]`` when ``first``."""
    for name in names:
        assert d.failing(name, "disproved"), (name, [(s.name, s.verdict) for s in d.failed()])
    with pytest.raises(ProofFailure, match=re.escape(names[0]) if first else None):
        d.require()


def assert_caught_only_by_general(d: Derivation, general: str) -> None:
    """A mutation that every fixed-size step misses: the general step ``general`` disproves it, and every
    fixed-size step still holds (why the general steps are needed)."""
    assert d.failing(general, "disproved"), [(s.name, s.verdict) for s in d.failed()]
    assert all(s.holds for s in d.steps if s.kind == "fixed-size")
