"""Monte Carlo check of (22); mutation: λ_min(L̃) in place of λ_max(L̃) (method: :mod:`bound_asserts`)."""

from bound_asserts import bound_tests

from isttheory.montecarlo import check_eq22

test_bound_holds, test_mutation_fails = bound_tests(check_eq22, use_lambda_min=True)
