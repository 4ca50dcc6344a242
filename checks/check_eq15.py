"""Monte Carlo check of (15); mutation: the factor 2 of (15) halved (method: :mod:`bound_asserts`)."""

from bound_asserts import bound_tests

from isttheory.montecarlo import check_eq15

test_bound_holds, test_mutation_fails = bound_tests(check_eq15, rhs_factor=1.0)
