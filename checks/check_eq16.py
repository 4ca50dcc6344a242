"""Monte Carlo check of (16); mutation: λ_max in place of λ_min in the rate (method: :mod:`bound_asserts`)."""

from bound_asserts import bound_tests

from isttheory.montecarlo import check_eq16

test_bound_holds, test_mutation_fails = bound_tests(check_eq16, rate_kind='max')
