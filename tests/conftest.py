import numpy as np
import pytest

from isttheory import generators


@pytest.fixture
def het_problem():
    return generators.heterogeneous(4, 8, 0.6, seed=3)


def random_spd(rng, d, n=None):
    """Random symmetric PD matrices (n, d, d) (or (d, d))."""
    shape = (d, d) if n is None else (n, d, d)
    A = rng.standard_normal(shape)
    return np.swapaxes(A, -1, -2) @ A / d + 0.1 * np.eye(d)
