"""Monte Carlo check of (28); mutation: the fixed point shifted by 0.05 (method: :mod:`bound_asserts`)."""

from bound_asserts import bound_tests

from isttheory.montecarlo import check_eq28

test_bound_holds, test_mutation_fails = bound_tests(check_eq28, shift=0.05)
