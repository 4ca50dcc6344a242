"""Assertions shared by the check modules (imported by them; not collected: no ``check_`` prefix)."""

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
