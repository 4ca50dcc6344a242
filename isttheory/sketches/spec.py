"""CLI sketch spec strings: ``name[:param]``, built from the registered families
(:func:`isttheory.sketches.base.registered_families`). Parameters are parsed as numbers
(or a path for ``finite`` and ``perm-groups``), never evaluated; each family checks its own."""

from __future__ import annotations

import numbers

from ..errors import SketchSpecError
from ..problem import QuadraticProblem
from ..structured import LowRankDiagonalProblem
from .base import Sketch, SpecTarget, registered_families


def specs() -> dict[str, str]:
    """``{spec syntax: one-line description}`` of every registered family (what ``isttheory sketches``
    prints)."""
    return {cls.syntax: cls.describe for cls in registered_families().values()}


def check_sketch_spec(spec: str) -> tuple[str, str | None]:
    """Check a spec's syntax without a problem: ``(name, parameter or None)``, or
    :class:`SketchSpecError` naming what is wrong. Shapes are checked by :func:`parse_sketch`."""
    if not isinstance(spec, str):
        raise SketchSpecError(f"a sketch spec is a string; got {spec!r}")
    name, sep, param = spec.strip().partition(":")
    families = registered_families()
    if name not in families:
        raise SketchSpecError(f"unknown sketch {spec!r}; known: {', '.join(specs())}")
    families[name].check_param(param if sep else None, spec)
    return name, (param if sep else None)


def parse_sketch(spec: str, problem: QuadraticProblem | LowRankDiagonalProblem | int | None = None,
                 d: int | None = None, *, n: int | None = None) -> Sketch:
    """Build the sketch named by ``spec``: ``parse_sketch(spec, problem)`` for ``problem``'s ``n`` and ``d`` (a
    :class:`~isttheory.problem.QuadraticProblem` or a structured problem), or ``parse_sketch(spec, n, d)``
    (also ``parse_sketch(spec, n=n, d=d)``).
    ``precond-perm`` (23) is built from the diagonals of the ``L_i``, so it needs the problem. Every mistake is a
    :class:`~isttheory.errors.SketchSpecError` (or a :class:`~isttheory.errors.SketchError` for sizes the
    family does not admit). The family's :meth:`~isttheory.sketches.base.Sketch.from_spec` builds it."""
    name, param = check_sketch_spec(spec)
    if n is not None:
        if problem is not None:
            raise SketchSpecError("parse_sketch takes a problem, or n and d; not both")
        problem = n
    target: SpecTarget
    if isinstance(problem, (QuadraticProblem, LowRankDiagonalProblem)):
        if d is not None:
            raise SketchSpecError("parse_sketch takes a problem, or n and d; not both")
        target = problem
    else:
        for what, v in (("n", problem), ("d", d)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
                raise SketchSpecError(f"parse_sketch(spec, n, d) needs a problem or positive integers n and d; "
                                      f"got {what} = {v!r}")
        target = (int(problem), int(d))  # type: ignore[arg-type]  # both checked Integral above
    return registered_families()[name].from_spec(param, target)


def __getattr__(name: str) -> dict[str, str]:
    if name == "SPECS":  # always the registry's current table
        return specs()
    raise AttributeError(name)
