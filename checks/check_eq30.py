"""Monte Carlo check of (30); mutation: the σ² term halved (method: :mod:`bound_asserts`)."""

from bound_asserts import bound_tests

from isttheory.montecarlo import check_eq30

test_bound_holds, test_mutation_fails = bound_tests(check_eq30, sigma_coef=0.5)
