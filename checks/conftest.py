"""Monte Carlo bound checks: fast settings in CI (R = 400 runs); ``isttheory verify --full`` uses more."""

import pytest

from isttheory.budget import FAST

RUNS = FAST.bound_runs  # the runs of `isttheory verify` (isttheory/budget.py)


@pytest.fixture
def runs():
    return RUNS
