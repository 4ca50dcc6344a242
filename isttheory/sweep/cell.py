"""One sweep cell: build the instance, then constants, exact limits and Monte Carlo summaries.

Everything here is a pure function of the cell's parameters and its seed (no clock,
no worker identity), so a cell gives the same numbers wherever and whenever it runs.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from pathlib import Path
from typing import Any

from .. import generators
from ..errors import ISTError, ResourceError, UnreliableMeanWarning, WorkerEnvironmentError
from ..problem import QuadraticProblem
from ..simulate import simulate
from ..sketches import parse_sketch
from ..sketches.base import Sketch
from ..sketches.finite import FiniteSketch
from ..sketches.groups import PermGroups, groups_from_bytes
from ..structured import LowRankDiagonalProblem
from .spec import GENERATOR_AXES, sketch_file

MC_METRICS = ("dist2_L", "f")
"""Recorded at iteration K by Monte Carlo and, exactly, at iteration K (``exact["at_K_<metric>"]``, the
like-for-like comparison) and in the limit (``exact["limit_<metric>"]``): ``E‖x − x*‖²_{L̄}`` (the
neighbourhood of Theorem 2 / (30), which equals ``E‖∇f‖²_{L̄⁻¹}``) and ``E f(x)``."""


def build_problem(params: dict[str, Any]) -> QuadraticProblem | LowRankDiagonalProblem:
    """The cell's instance from its generator and the axes that generator takes."""
    name = params["generator"]
    kw = {k: params[k] for k in GENERATOR_AXES[name] if k in params}
    for k in ("rank", "shared_rank", "client_rank"):
        if k in kw:
            kw[k] = int(kw[k])
    fn = getattr(generators, name)
    problem: QuadraticProblem | LowRankDiagonalProblem = fn(int(params["n"]), int(params["d"]),
                                                            seed=int(params["seed"]), **kw)
    return problem


def _num(x: Any) -> float | None:
    """A JSON-safe float: ``None`` for missing or non-finite values (never NaN in the output)."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


UNFIT = "unfit"
"""Status of a cell that did not fit this machine's memory: reported, never stored (a rerun on a
bigger machine or another worker tries again), since it depends on the machine, not the parameters."""


def cell_file(params: dict[str, Any], content: bytes | None) -> bytes | None:
    """The content of the cell's sketch file, checked against its ``sketch_sha256`` (``None`` for a sketch
    without a file). ``content`` is what the client shipped with the task; without it the file is read
    here, by its path. A file that cannot be read, or content whose hash is not the one in the cell id, is a
    :class:`WorkerEnvironmentError`: a failure of this machine, retried by a rerun, never a result."""
    want = params.get("sketch_sha256")
    path = sketch_file(str(params["sketch"]))
    if want is None or path is None:
        return None
    if content is None:
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise WorkerEnvironmentError(f"cannot read sketch file {path!r} on this machine: "
                                         f"{exc.strerror or exc}") from None
    got = hashlib.sha256(content).hexdigest()
    if got != want:
        raise WorkerEnvironmentError(f"sketch file {path!r}: the content here has SHA-256 {got[:16]}…, the cell "
                                     f"was defined with {str(want)[:16]}…; not computed")
    return content


def run_cell(params: dict[str, Any], mc_seed: int, runs: int, iters: int, max_d: int,
             sketch_content: bytes | None = None) -> dict[str, Any]:
    """Compute one cell. Returns ``{"status": "ok" | "invalid" | "unfit", ...}``.

    ``invalid``: the parameters do not make a valid computation (e.g. Perm-q with ``d`` not a
    multiple of ``n``, or a step size that overflows); ``error`` is the one-line message a user
    would see; this includes an instance whose generator refuses its size before allocating (a dense
    problem at ``d = 200000``). ``unfit``: the Monte Carlo runs are estimated not to fit in memory
    (:data:`UNFIT`).
    Constants and exact dynamics are computed for dense problems with ``d ≤ max_d``.
    A sketch file (``finite:PATH``, ``perm-groups:PATH``) is built from ``sketch_content`` (the bytes a
    sweep ships with the task) or else read by its path; either way it is checked against the cell's
    ``sketch_sha256`` first (:func:`cell_file`: a mismatch raises, it is not a result).
    """
    content = cell_file(params, sketch_content)
    try:
        return _compute(params, mc_seed, runs, iters, max_d, content)
    except (ResourceError, MemoryError) as exc:
        return {"status": UNFIT, "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    except (ISTError, OverflowError) as exc:
        return {"status": "invalid", "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}


def _sketch(spec: str, problem: QuadraticProblem | LowRankDiagonalProblem, content: bytes | None) -> Sketch:
    """The cell's sketch; a file sketch from the (checked) ``content``, never from this machine's files."""
    path = sketch_file(spec)
    if content is None or path is None:
        return parse_sketch(spec, problem)
    if spec.strip().startswith("finite:"):
        return FiniteSketch.check_sizes(FiniteSketch.from_bytes(content, path), path, problem.n, problem.d)
    return PermGroups(problem.n, problem.d, groups_from_bytes(content, path), source=path)


def _compute(params: dict[str, Any], mc_seed: int, runs: int, iters: int, max_d: int,
             content: bytes | None) -> dict[str, Any]:
    try:
        problem = build_problem(params)
    except ResourceError as exc:  # the instance itself is too large (dense d = 200000): a parameter choice
        return {"status": "invalid", "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    sketch = _sketch(params["sketch"], problem, content)
    gamma, form, steps = float(params["gamma"]), str(params["form"]), int(params["local_steps"])
    out: dict[str, Any] = {"status": "ok", "constants": None, "exact": None,
                           "f_star": _num(problem.f_star) if problem.is_L_bar_positive_definite else None}
    dense = isinstance(problem, QuadraticProblem) and problem.d <= max_d
    if dense:
        assert isinstance(problem, QuadraticProblem)
        out["constants"] = _constants(problem, sketch, form, gamma)
        out["exact"] = _exact(problem, sketch, gamma, form, steps, iters)
    else:
        out["skipped"] = f"constants and exact dynamics need a dense problem with d <= {max_d}"
    with warnings.catch_warnings():  # recorded in the cell (unreliable_mean), not printed by a worker
        warnings.simplefilter("ignore", UnreliableMeanWarning)
        res = simulate(problem, sketch, gamma, iters, runs=runs, seed=mc_seed, form=form,  # type: ignore[arg-type]
                       local_steps=steps, noise=float(params["noise"]), record=[0, iters], threads=1)
    mc: dict[str, Any] = {"runs": runs, "iters": iters, "diverged": res.diverged, "diverged_at": res.diverged_at,
                          "divergence_reason": res.divergence_reason,
                          "unreliable_mean": res.settings.get("unreliable_mean")}
    for m in MC_METRICS:
        if m in res.metrics and not res.diverged:
            metric = res.metrics[m]
            mc[m] = _num(metric.mean[-1])
            mc[m + "_sem"] = None if metric.sem is None else _num(metric.sem[-1])
        else:
            mc[m] = mc[m + "_sem"] = None
    out["monte_carlo"] = mc
    return out


def _constants(problem: QuadraticProblem, sketch: Any, form: str, gamma: float) -> dict[str, Any]:
    from ..summary import constants_summary

    s = constants_summary(problem, sketch, form, gamma)
    keys = ("theta", "rate", "step_paper", "gamma_opt", "contraction_opt", "contraction_at_gamma", "h_norm2_L",
            "sigma2")
    out: dict[str, Any] = {k: _num(s.get(k)) for k in keys}
    out["W_psd"] = s["W_psd"]
    out["solver_status"] = s["solver_status"]
    return out


def _exact(problem: QuadraticProblem, sketch: Any, gamma: float, form: str, steps: int,
           iters: int) -> dict[str, Any]:
    """Rates, the exact limit (``limit_<metric>``) and the exact value at the Monte Carlo's iteration
    ``K = iters`` from the same ``x⁰`` (``at_K_<metric>``; ``None`` when the moments blew up before K).
    Gradient noise is not modelled: with ``noise > 0`` both are noise-free values."""
    from ..dynamics import ExactDynamics

    dyn = ExactDynamics(problem, sketch, gamma, form, steps)
    lim = dyn.limit_metrics
    at_k = dyn.run(iters, record=[iters])
    reached = at_k.diverged_at is None and at_k.iters.size == 1
    out: dict[str, Any] = {"ms_rate": _num(dyn.ms_rate), "mean_rate": _num(dyn.mean_rate),
                           "converges": lim is not None}
    for m in MC_METRICS:
        out["limit_" + m] = None if lim is None else _num(lim.get(m))
    for m in MC_METRICS:
        vals = at_k.metrics.get(m)
        out["at_K_" + m] = _num(vals[0]) if reached and vals is not None else None
    return out

