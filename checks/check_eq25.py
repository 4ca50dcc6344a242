"""Monte Carlo check of (25); mutation: one-step convergence claimed at γ = 1/2 (method: :mod:`bound_asserts`)."""

from bound_asserts import bound_tests

from isttheory.montecarlo import check_eq25

test_bound_holds, test_mutation_fails = bound_tests(check_eq25, gamma=0.5)
