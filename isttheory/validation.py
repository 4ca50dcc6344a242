"""The parameters of a run of the method, checked in one place (:class:`~isttheory.errors.ParameterError`).

Algorithm 1 and the SGD-type form (2) take a step size ``γ > 0``, a form (:data:`FORMS`) and a number of local
steps (``1`` for form (2)); :func:`~isttheory.simulate.simulate`, :class:`~isttheory.dynamics.ExactDynamics`
and :func:`~isttheory.region.convergence_region` all check them here, with the same messages.
"""

from __future__ import annotations

import math
from typing import Any, Literal, TypeAlias, TypeVar

import numpy as np

from .errors import ParameterError

Form: TypeAlias = Literal["sgd", "ist"]
FORMS: tuple[Form, ...] = ("sgd", "ist")
"""``sgd``: the paper's form (2), ``x⁺ = x − γ g``; ``ist``: Algorithm 1 (local steps on submodels, then the
average (6))."""

DIVERGENCE_FACTOR = 1e10
"""A Monte Carlo run (:func:`~isttheory.simulate.simulate`) has diverged once ``max|x^k|`` exceeds this multiple
of ``max(1, ‖x⁰‖_∞, ‖x*‖_∞)``: far beyond any transient of a convergent run, far below float64 overflow."""
MOMENT_DIVERGENCE_FACTOR = 1e12
"""The exact recursion (:class:`~isttheory.dynamics.ExactDynamics`) has diverged once an entry of the second
moment ``E[x^k x^kᵀ]`` exceeds this multiple of ``max(1, max|x⁰x⁰ᵀ|)``. A different quantity from
:data:`DIVERGENCE_FACTOR` (a second moment is quadratic in ``x``), hence a different
number; both are here so that neither is read for the other."""


_Choice = TypeVar("_Choice", bound=str)


def check_choice(name: str, value: object, choices: tuple[_Choice, ...]) -> _Choice:
    """``value`` as one of ``choices`` (typed as the choice), else ``ParameterError``:
    ``name must be 'a' or 'b'; got …``."""
    for c in choices:
        if value == c:
            return c
    listed = ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}" if len(choices) > 1 else repr(choices[0])
    raise ParameterError(f"{name} must be {listed}; got {value!r}")


def check_step_size(gamma: Any) -> float:
    """``γ`` as a float; :class:`ParameterError` unless it is a finite positive number."""
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.integer, np.floating)) \
            or not math.isfinite(gamma) or gamma <= 0:
        raise ParameterError(f"step size gamma must be a finite positive number; got {gamma!r}")
    return float(gamma)


def check_integer(name: str, value: Any, low: int) -> int:
    """``value`` as an int; :class:`ParameterError` unless it is an integer ``≥ low`` (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ParameterError(f"{name} must be an integer >= {low}; got {value!r}")
    return int(value)


def check_form(form: Any, local_steps: Any = 1) -> tuple[Form, int]:
    """``(form, local_steps)`` checked: a form of :data:`FORMS`, and local steps ``≥ 1``, exactly 1 for (2)."""
    if form not in FORMS:
        raise ParameterError(f"form must be 'sgd' or 'ist'; got {form!r}")
    steps = check_integer("local steps", local_steps, 1)
    if form == "sgd" and steps != 1:
        raise ParameterError("local steps apply to Algorithm 1 (--form ist) only; the SGD form (2) has one step")
    return form, steps
