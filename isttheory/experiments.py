"""The paper's quadratic experiments, with exact expected curves beside the Monte Carlo means.

* :func:`error_curves`: relative error ``E‖x^k − x*‖²_{L̄}/‖x⁰ − x*‖²_{L̄}`` against ``k`` for several
  step sizes: the Monte Carlo mean with a 95% Student-t band and the exact expectation
  (:class:`isttheory.dynamics.ExactDynamics`). Linear convergence in the interpolation case, a
  step-size dependent neighbourhood otherwise.
* :func:`neighbourhood`: the exact limit ``lim E‖∇f(x^k)‖²_{L̄⁻¹}`` against ``γ``, beside the
  neighbourhoods of Theorem 2 as printed (with the corrected norm and the best β of (29)) and as
  corrected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sst

from . import generators
from .arrays import FloatArray
from .bounds import thm2_corrected_rhs, thm2_paper_rhs
from .budget import budget
from .dynamics import ExactDynamics
from .moments import SketchMoments
from .problem import QuadraticProblem
from .simulate import simulate
from .sketches import PreconditionedPerm
from .sketches.base import Sketch
from .validation import Form


@dataclass
class Curve:
    gamma: float
    iters: NDArray[np.int64]
    mc_mean: FloatArray
    mc_low: FloatArray
    mc_high: FloatArray
    exact: FloatArray


@dataclass
class Experiment:
    title: str
    problem: QuadraticProblem
    sketch: str
    curves: list[Curve] = field(default_factory=list)
    scale: float = 1.0
    """``‖x⁰ − x*‖²_{L̄}``: curves are divided by it (relative error)."""


def error_curves(title: str, problem: QuadraticProblem, sketch: Sketch, gammas: list[float], iters: int,
                 runs: int, seed: int = 0, form: Form = "sgd") -> Experiment:
    """Relative error curves, Monte Carlo (mean and 95% band) and exact, for each γ."""
    x0 = np.ones(problem.d)
    e0 = x0 - problem.x_star
    scale = float(e0 @ problem.L_bar @ e0)
    exp = Experiment(title, problem, sketch.spec, scale=scale)
    rec = np.unique(np.linspace(0, iters, min(iters + 1, 61)).round().astype(np.int64))
    tq = float(sst.t.ppf(0.975, max(runs - 1, 1)))
    for g in gammas:
        res = simulate(problem, sketch, g, iters, runs=runs, seed=seed, form=form, record=rec, x0=x0)
        m = res.metrics["dist2_L"]
        half = tq * (m.sem if m.sem is not None else np.zeros_like(m.mean))
        ex = ExactDynamics(problem, sketch, g, form, 1, x0).run(iters, record=res.iters).metrics["dist2_L"]
        n = len(res.iters)
        exp.curves.append(Curve(g, res.iters, m.mean / scale, (m.mean - half) / scale, (m.mean + half) / scale,
                                ex[:n] / scale))
    return exp


@dataclass
class Neighbourhood:
    gammas: FloatArray
    exact: FloatArray
    corrected: FloatArray
    paper: FloatArray
    H: float
    sigma2: float


def neighbourhood(problem: QuadraticProblem, gammas: FloatArray | None = None) -> Neighbourhood:
    """Exact limit of ``E‖∇f(x^k)‖²_{L̄⁻¹}`` under (23) against γ, and the two neighbourhood bounds."""
    g = np.linspace(0.05, 0.95, 19) if gammas is None else np.asarray(gammas, dtype=float)
    sk = PreconditionedPerm.from_problem(problem)
    mo = SketchMoments(problem, sk)
    H, S = float(mo.h @ problem.L_bar @ mo.h), mo.sigma2_at_x_star
    limits = [ExactDynamics(problem, sk, float(x)).limit_metrics for x in g]  # γ < 2: always convergent
    exact = np.array([np.nan if lm is None else lm["grad2_Linv"] for lm in limits])
    corrected = np.array([thm2_corrected_rhs(x, 1, 0.0, H, S) for x in g])
    paper = np.array([thm2_paper_rhs(x, 1, 0.0, H, S) for x in g])  # (30)'s neighbourhood (no transient)
    return Neighbourhood(g, exact, corrected, paper, H, S)


PAPER_EXPERIMENTS = ("homogeneous", "heterogeneous", "heterogeneous, interpolation")
"""The problems of :func:`paper_experiments`, in order (n = d = 8)."""


def experiment_title(i: int) -> str:
    """The title of the ``i``-th experiment of :func:`paper_experiments`."""
    return f"{PAPER_EXPERIMENTS[i]}, preconditioned Perm-1 (23)"


def paper_experiment(i: int, fast: bool = True, seed: int = 0) -> Experiment:
    """The ``i``-th experiment of :func:`paper_experiments` alone (a caller can report progress between them)."""
    b = budget(fast)
    if i == 0:
        prob = generators.homogeneous(8, 8, seed=1)
    elif i == 1:
        prob = generators.heterogeneous(8, 8, 0.7, seed=2)
    else:
        prob = generators.interpolation(8, 8, 0.7, seed=3)
    sk = PreconditionedPerm.from_problem(prob)
    return error_curves(experiment_title(i), prob, sk, [0.1, 0.3, 0.6, 1.0], b.experiment_iters,
                        b.experiment_runs, seed)


def paper_experiments(fast: bool = True, seed: int = 0) -> list[Experiment]:
    """Homogeneous and heterogeneous problems, interpolation and not, several step sizes (n = d = 8)."""
    return [paper_experiment(i, fast, seed) for i in range(len(PAPER_EXPERIMENTS))]
