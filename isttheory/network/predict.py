"""Predicted plateaus of IST on the network from the quadratic theory, and the measured ones (issue 18).

The **loss gap** is ``F(W^k) − F_ref``:

* ``train="last"`` (model ``"exact"``): ``F_ref = min F`` over ``W₂`` (``W₁`` fixed), the minimum of the
  exact quadratic (12) plus :func:`~isttheory.network.bridge.loss_offset`. The quadratic separates over the
  ``c`` outputs (``L_i = G_i ⊗ I_c``; the neuron deal restricted to one output is Perm-q (7)), so
  ``E f(x^k) = Σ_k E f^{(k)}(x^k_{(k)})`` with each output's exact expectation from
  :class:`~isttheory.dynamics.ExactDynamics` on a ``d = h`` problem (:func:`output_problems`): exact, and
  ``c`` times smaller than the dense ``d = h·c`` problem (which :func:`last_layer_problem` refuses for digits
  with ``h = 256``);
* ``train="all"`` (model ``"local-quadratic"``): ``F_ref = F(w*)`` at the trained point, and the prediction is
  the gap ``lim E f(x^k) − f(w*)`` of the Gauss–Newton local model
  (:func:`~isttheory.network.local_model.local_quadratic`) under ``perm-groups`` over neurons (both layers)
  with Algorithm 1. An approximation, never called exact: the network's sub-model scales only its hidden
  output by ``n`` (not ``W₁``), and the loss is not quadratic.

The predicted plateau is the exact limit ``lim_k E f(x^k) − f*`` (:attr:`ExactDynamics.limit_metrics`);
the neighbourhood ``‖h‖²_L̄ + γσ²/(2 − γ)`` (:func:`isttheory.bounds.thm2_limit`) is its closed form only under
(23) (``E[B̄] = I``: the preconditioned Perm-q), which the release code's plain Perm-q deal with scale ``n`` does not
satisfy on these problems, so the exact limit is used throughout and :func:`thm2_limit` is not called here.
``None`` with a note when the recursion diverges (rate ``≥ 1``) or the engine refuses (``t > 1`` needs the
sketch's support: tiny hidden sizes only). The measured plateau (:func:`measure_plateau`) is the mean over runs
of each run's gap averaged over the last fifth of the rounds, ``k ∈ [K − ⌊K/5⌋, K]``, with its standard error
over runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal, TypeAlias

import numpy as np
from numpy.typing import NDArray

from ..arrays import FloatArray
from ..dynamics import ExactDynamics
from ..errors import EnumerationTooLargeError, ResourceError
from ..problem import QuadraticProblem
from ..resources import small_blas
from .bridge import bridge_form, last_layer_problem, loss_offset
from .data import NetworkData
from .local_model import LocalModel, all_layer_sketch
from .model import TwoLayerNet
from .train import NetworkRun, neuron_sketch

Model: TypeAlias = Literal["exact", "local-quadratic"]


def output_data(data: NetworkData, k: int) -> NetworkData:
    """``data`` with only output ``k`` (a one-output network's data)."""
    return replace(data, Y=data.Y[:, :, k:k + 1])


def output_net(net: TwoLayerNet, k: int) -> TwoLayerNet:
    """``net`` with only output ``k``."""
    return TwoLayerNet(net.W1, net.V[:, k:k + 1], net.activation)


def output_problems(data: NetworkData, net: TwoLayerNet) -> list[QuadraticProblem]:
    """The last-layer quadratic of each output (``d = h``; :func:`last_layer_problem` on one output)."""
    return [last_layer_problem(output_data(data, k), output_net(net, k)) for k in range(data.outputs)]


def quadratic_min(problem: QuadraticProblem) -> tuple[FloatArray, float]:
    """A minimiser of ``f`` (least squares: ``L̄`` may be singular, ``b̄`` lies in its range) and ``f*``."""
    L = np.asarray(problem.L_bar)
    x: FloatArray = np.asarray(np.linalg.lstsq(L, np.asarray(problem.b_bar), rcond=None)[0], dtype=np.float64)
    return x, float(problem.f(x))


def last_layer_optimum(data: NetworkData, net: TwoLayerNet) -> tuple[TwoLayerNet, float]:
    """The network with ``W₂`` at the last-layer minimum, and ``min F = offset + Σ_k f*_k``."""
    cols, fstar = [], loss_offset(data)
    for prob in output_problems(data, net):
        x, f = quadratic_min(prob)
        cols.append(x)
        fstar += f
    return TwoLayerNet(net.W1, np.stack(cols, axis=1), net.activation), fstar


@dataclass(frozen=True)
class PlateauPrediction:
    """``plateau = lim E F − F_ref`` predicted (``None``: see ``note``); ``model`` "exact" or "local-quadratic"."""

    gamma: float
    plateau: float | None
    model: Model
    note: str = ""


def _limit_gap(problem: QuadraticProblem, sketch_n: int, gamma: float, local_steps: int, x0: FloatArray,
               f_ref: float, sketch: object) -> tuple[float | None, str]:
    form, t = bridge_form(local_steps)
    try:
        with small_blas(problem.d):
            ex = ExactDynamics(problem, sketch, gamma, form, t, x0=x0)  # type: ignore[arg-type]
            lim = ex.limit_metrics
    except (EnumerationTooLargeError, ResourceError) as exc:
        return None, f"the exact engine refused: {exc}"
    if lim is None:
        return None, f"diverges in mean square at gamma = {gamma:g} (rate >= 1)"
    return float(lim["f"] - f_ref), ""


def predict_plateau(data: NetworkData, net: TwoLayerNet, gamma: float, local_steps: int = 1,
                    local: LocalModel | None = None) -> PlateauPrediction:
    """The predicted plateau of the loss gap (module docstring). ``local=None``: ``train="last"`` with ``W₁`` of
    ``net`` fixed (exact, per output); else ``train="all"`` from ``local`` (the local quadratic model)."""
    if local is not None:
        gap, note = _limit_gap(local.problem, data.n, gamma, local_steps, local.w_star, local.f_at_star,
                               all_layer_sketch(data.n, local.net))
        return PlateauPrediction(float(gamma), gap, "local-quadratic", note)
    total = 0.0
    for k, prob in enumerate(output_problems(data, net)):
        gap, note = _limit_gap(prob, data.n, gamma, local_steps, np.asarray(net.V[:, k]), quadratic_min(prob)[1],
                               neuron_sketch(data.n, net.hidden, 1))
        if gap is None:
            return PlateauPrediction(float(gamma), None, "exact", note)
        total += gap
    return PlateauPrediction(float(gamma), total, "exact")


def exact_curve(data: NetworkData, net: TwoLayerNet, gamma: float, rounds: int, record: NDArray[np.int64],
                local_steps: int = 1) -> FloatArray | None:
    """``E F(W^k) − min F`` exactly at ``record`` (train = last; ``None`` when the engine refuses or diverges)."""
    form, t = bridge_form(local_steps)
    total = np.zeros(record.size)
    for k, prob in enumerate(output_problems(data, net)):
        try:
            with small_blas(prob.d):
                res = ExactDynamics(prob, neuron_sketch(data.n, net.hidden, 1), gamma, form, t,
                                    x0=np.asarray(net.V[:, k])).run(rounds, record=record)
        except (EnumerationTooLargeError, ResourceError):
            return None
        if res.metrics.get("f", np.zeros(0)).shape[0] != record.size:
            return None
        total += res.metrics["f"] - quadratic_min(prob)[1]
    return total


def tail_rounds(rounds: int) -> NDArray[np.int64]:
    """The rounds the measured plateau averages: the last fifth, ``K − ⌊K/5⌋ … K``."""
    return np.arange(rounds - rounds // 5, rounds + 1, dtype=np.int64)


@dataclass(frozen=True)
class MeasuredPlateau:
    """Mean over runs of each run's gap averaged over :func:`tail_rounds`; ``sem`` over runs (NaN for 1 run)."""

    plateau: float
    sem: float
    runs: int
    first_round: int
    last_round: int


def measure_plateau(run: NetworkRun, f_ref: float) -> MeasuredPlateau:
    """The measured plateau of ``run`` (recorded at least at :func:`tail_rounds` of its rounds)."""
    K = int(run.settings["rounds"])
    tail = tail_rounds(K)
    rows = np.searchsorted(run.iters, tail)
    per_run = (run.loss[rows] - f_ref).mean(axis=0)       # (R,)
    R = per_run.size
    sem = float(per_run.std(ddof=1) / math.sqrt(R)) if R > 1 else float("nan")
    return MeasuredPlateau(float(per_run.mean()), sem, R, int(tail[0]), K)
