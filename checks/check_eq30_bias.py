"""Monte Carlo check of (30) pure bias (σ² = 0); mutation: the bias term halved (method: :mod:`bound_asserts`)."""

from bound_asserts import bound_tests

from isttheory.montecarlo import check_eq30_zero_noise

test_bound_holds, test_mutation_fails = bound_tests(check_eq30_zero_noise, h_coef=0.5)
