"""The parameters of a run are checked in one place (``isttheory/validation.py``): simulate, ExactDynamics and
convergence_region give the same ParameterError, with the same words, for the same mistake."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from isttheory import generators
from isttheory.dynamics import ExactDynamics
from isttheory.errors import ParameterError
from isttheory.region import convergence_region
from isttheory.simulate import simulate
from isttheory.sketches import Permutation
from isttheory.validation import FORMS, check_form, check_integer, check_step_size

P = generators.heterogeneous(2, 2, 0.5, seed=0)
SK = Permutation(2, 2)

CALLS = {
    "simulate": lambda g, f, t: simulate(P, SK, g, 3, runs=2, form=f, local_steps=t),
    "ExactDynamics": lambda g, f, t: ExactDynamics(P, SK, g, f, t),
    "region": lambda g, f, t: convergence_region(P, SK, form=f, local_steps=t),
}


@pytest.mark.parametrize("where", sorted(CALLS))
@pytest.mark.parametrize(("form", "steps", "message"), [
    ("adam", 1, "form must be 'sgd' or 'ist'; got 'adam'"),
    ("sgd", 2, "local steps apply to Algorithm 1 (--form ist) only"),
    ("ist", 0, "local steps must be an integer >= 1; got 0"),
    ("ist", 1.5, "local steps must be an integer >= 1; got 1.5"),
    ("ist", True, "local steps must be an integer >= 1; got True"),
])
def test_one_message_for_one_mistake_everywhere(where: str, form: Any, steps: Any, message: str) -> None:
    with pytest.raises(ParameterError, match=re.escape(message)):
        CALLS[where](0.5, form, steps)


@pytest.mark.parametrize("where", ["simulate", "ExactDynamics"])
@pytest.mark.parametrize("gamma", [0.0, -1.0, float("nan"), float("inf"), "0.5", True])
def test_bad_step_sizes(where: str, gamma: Any) -> None:
    with pytest.raises(ParameterError, match="step size gamma must be a finite positive number"):
        CALLS[where](gamma, "sgd", 1)


def test_the_checks_themselves() -> None:
    assert FORMS == ("sgd", "ist")
    assert check_step_size(np.float32(0.25)) == 0.25 and check_integer("K", np.int64(3), 1) == 3
    assert check_form("ist", np.int64(2)) == ("ist", 2)
    with pytest.raises(ParameterError, match="K must be an integer >= 1; got 0"):
        check_integer("K", 0, 1)


def test_library_errors_are_ist_errors() -> None:
    """No bare ValueError/RuntimeError for a caller's mistake: a duplicate claim id and a wrong form of the
    second-moment map are ISTError subclasses (still ValueError, for callers that caught that)."""
    import isttheory.claims  # noqa: F401  (registers the paper's claims)
    from isttheory.claims import registry
    from isttheory.errors import ISTError, RegistryError
    from isttheory.moments import SketchMoments

    with pytest.raises(RegistryError, match="already registered"):
        registry.register(registry.claims()[0])
    with pytest.raises(ParameterError, match="form must be 'sgd' or 'ist'"):
        SketchMoments(P, SK).transition(np.eye(2), 0.5, "adam")
    assert issubclass(RegistryError, (ISTError, ValueError)) and issubclass(ParameterError, ISTError)


def test_check_choice_returns_the_choice_and_names_every_option():
    from isttheory.validation import check_choice

    assert check_choice("form", "ist", ("sgd", "ist")) == "ist"
    with pytest.raises(ParameterError, match=r"^loss must be 'a', 'b' or 'c'; got 'd'$"):
        check_choice("loss", "d", ("a", "b", "c"))
    with pytest.raises(ParameterError, match=r"^x must be 'a'; got 1$"):
        check_choice("x", 1, ("a",))
