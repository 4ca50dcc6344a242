"""Monte Carlo check of (31); mutation: the fixed point x* claimed instead of b̃/√n.

Method: Student-t test on R per-run values (one-sided for bounds, two-sided per coordinate for
identities), level 1e-3 (family-wise with Holm in ``isttheory verify``); the estimate is also
compared with the exact expectation from the dynamics engine.
"""

from bound_asserts import assert_holds, assert_mutation_detected

from isttheory.montecarlo import check_eq31


def test_bound_holds(runs):
    assert_holds(check_eq31(runs, seed=0))


def test_mutation_fails(runs):
    assert_mutation_detected(check_eq31(runs, seed=0, **dict(fixed_point='x*')))
