"""Assertions shared by the check modules (imported by them; not collected: no ``check_`` prefix).

Method of every check: a Student-t test on R per-run values (one-sided for bounds, two-sided per coordinate
for identities), level 1e-3 (family-wise with Holm in ``isttheory verify``); the estimate is also compared
with the exact expectation from the dynamics engine. Each check module states its mutation: a wrong
constant or bound that the same test must reject.
"""

from collections.abc import Callable
from typing import Any

from isttheory.montecarlo import BoundCheck
from isttheory.stats import FAMILY_ALPHA


def assert_holds(c: BoundCheck) -> None:
    """The true bound is not rejected, Monte Carlo agrees with the exact value, and bound ≥ exact."""
    assert c.p_value > FAMILY_ALPHA, c.to_dict()
    if c.mc_vs_exact_z is not None:
        assert abs(c.mc_vs_exact_z) < 4.5, c.to_dict()
    if c.tightness is not None:
        assert c.tightness >= 1 - 1e-9


def assert_mutation_detected(bad: BoundCheck) -> None:
    """The mutated statement is genuinely false (exact dynamics) and the Monte Carlo test rejects it."""
    if bad.kind == "equal":
        assert abs(bad.exact - bad.bound) > 10 * max(bad.se, 1e-9), bad.to_dict()
    else:
        assert bad.exact > bad.bound, bad.to_dict()
    assert bad.p_value <= FAMILY_ALPHA, bad.to_dict()


Test = Callable[[int], None]


def bound_tests(check: Callable[..., BoundCheck], **mutation: Any) -> tuple[Test, Test]:
    """The two tests of a check module: the bound holds (:func:`assert_holds`) and ``mutation`` (keyword
    arguments of ``check`` that make its statement false) is detected (:func:`assert_mutation_detected`).
    Use as ``test_bound_holds, test_mutation_fails = bound_tests(check_eqN, **mutation)``."""

    def test_bound_holds(runs: int) -> None:
        assert_holds(check(runs, seed=0))

    def test_mutation_fails(runs: int) -> None:
        assert_mutation_detected(check(runs, seed=0, **mutation))

    return test_bound_holds, test_mutation_fails
