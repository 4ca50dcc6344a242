"""Monte Carlo check of (31); mutation: the fixed point x* claimed instead of b̃/√n (method: :mod:`bound_asserts`)."""

from bound_asserts import bound_tests

from isttheory.montecarlo import check_eq31

test_bound_holds, test_mutation_fails = bound_tests(check_eq31, fixed_point='x*')
