"""Monte Carlo bound checks: fast settings in CI (R = 400 runs); ``isttheory verify --full`` uses more."""

import pytest

RUNS = 400


@pytest.fixture
def runs():
    return RUNS
