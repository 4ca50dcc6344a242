"""CLI sketch spec strings: ``name[:param]``. Parameters are parsed as numbers
(or a path for ``finite``), never evaluated."""

from __future__ import annotations

import math
import numbers

from ..errors import SketchSpecError
from ..problem import QuadraticProblem
from ..structured import LowRankDiagonalProblem
from .base import Sketch
from .blocks import PermBlocks
from .clients import PermClients
from .finite import FiniteSketch
from .identity import Identity
from .permutation import Permutation
from .precond import PreconditionedPerm
from .rand import RandQ

SPECS: dict[str, str] = {
    "identity": "C_i = I (distributed GD)",
    "perm": "Perm-q (7), q = d/n, scale n; Perm-1 when n = d",
    "scaled-perm[:S]": "Perm-q with scale S (default sqrt(n), the paper's §4 homogeneous case)",
    "precond-perm": "preconditioned Perm-1 (23), needs n = d and positive diagonals",
    "rand:Q": "Rand-q (4) with Q coordinates, independent per client",
    "perm-blocks": "near-equal random blocks for d not a multiple of n (scale n)",
    "perm-clients": "permutation compressor for n = q*d (Szlendak et al. 2022)",
    "finite:PATH": "user-defined finite distribution from a JSON/NPZ file",
}


def _number(text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise SketchSpecError(f"{what} must be a number; got {text!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise SketchSpecError(f"{what} must be a finite positive number; got {text!r}")
    return v


def check_sketch_spec(spec: str) -> tuple[str, str | None]:
    """Check a spec's syntax without a problem: ``(name, parameter or None)``, or
    :class:`SketchSpecError` naming what is wrong. Shapes are checked by :func:`parse_sketch`."""
    if not isinstance(spec, str):
        raise SketchSpecError(f"a sketch spec is a string; got {spec!r}")
    name, sep, param = spec.strip().partition(":")
    if name in ("identity", "perm", "perm-blocks", "perm-clients") and sep:
        raise SketchSpecError(f"sketch {name!r} takes no parameter; got {spec!r}")
    if name == "scaled-perm" and sep:
        _number(param, "scaled-perm scale S")
    elif name == "precond-perm" and sep and param != "printed":
        raise SketchSpecError(f"precond-perm takes no parameter except 'printed'; got {spec!r}")
    elif name == "rand":
        if not sep:
            raise SketchSpecError("rand needs the number of coordinates: rand:Q")
        q = _number(param, "rand:Q")
        if q != int(q):
            raise SketchSpecError(f"rand:Q needs an integer Q; got {param!r}")
    elif name == "finite" and not param:
        raise SketchSpecError("finite needs a file: finite:PATH")
    elif name not in ("identity", "perm", "scaled-perm", "precond-perm", "rand", "perm-blocks", "perm-clients",
                      "finite"):
        raise SketchSpecError(f"unknown sketch {spec!r}; known: {', '.join(SPECS)}")
    return name, (param if sep else None)


def parse_sketch(spec: str, problem: QuadraticProblem | LowRankDiagonalProblem | int | None = None,
                 d: int | None = None, *, n: int | None = None) -> Sketch:
    """Build the sketch named by ``spec``: ``parse_sketch(spec, problem)`` for ``problem``'s ``n`` and ``d`` (a
    :class:`~isttheory.problem.QuadraticProblem` or a structured problem), or ``parse_sketch(spec, n, d)``
    (also ``parse_sketch(spec, n=n, d=d)``).
    ``precond-perm`` (23) is built from the diagonals of the ``L_i``, so it needs the problem. Every mistake is a
    :class:`~isttheory.errors.SketchSpecError` (or a :class:`~isttheory.errors.SketchError` for sizes the
    family does not admit)."""
    name, param = check_sketch_spec(spec)
    if n is not None:
        if problem is not None:
            raise SketchSpecError("parse_sketch takes a problem, or n and d; not both")
        problem = n
    if isinstance(problem, (QuadraticProblem, LowRankDiagonalProblem)):
        if d is not None:
            raise SketchSpecError("parse_sketch takes a problem, or n and d; not both")
        n, d = problem.n, problem.d
    else:
        for what, v in (("n", problem), ("d", d)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
                raise SketchSpecError(f"parse_sketch(spec, n, d) needs a problem or positive integers n and d; "
                                      f"got {what} = {v!r}")
        if name == "precond-perm":
            raise SketchSpecError("precond-perm is built from the problem's diagonals: parse_sketch('precond-perm', "
                                  "problem)")
        n, d = int(problem), int(d)  # type: ignore[arg-type]  # both checked Integral above
    if name == "identity":
        return Identity(n, d)
    if name == "perm":
        return Permutation(n, d)
    if name == "scaled-perm":
        return Permutation(n, d, scale=_number(param, "scaled-perm scale S") if param is not None else math.sqrt(n))
    if name == "precond-perm":
        assert isinstance(problem, (QuadraticProblem, LowRankDiagonalProblem))
        return PreconditionedPerm.from_problem(problem, "printed" if param is not None else "diagonal")
    if name == "rand":
        assert param is not None
        return RandQ(n, d, int(_number(param, "rand:Q")))
    if name == "perm-blocks":
        return PermBlocks(n, d)
    if name == "perm-clients":
        return PermClients(n, d)
    assert param is not None
    sk = FiniteSketch.read(param)
    if (sk.n, sk.d) != (n, d):
        raise SketchSpecError(
            f"sketch file {param} is for n = {sk.n}, d = {sk.d}; the problem has n = {n}, d = {d}")
    return sk
