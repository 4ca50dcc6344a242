"""Predicted plateaus of IST on the network from the quadratic theory, and the measured ones (issue 18).

The **loss gap** is ``F(W^k) − F_ref``:

* ``train="last"`` (model ``"exact"``): ``F_ref = min F`` over ``W₂`` (``W₁`` fixed), the minimum of the
  exact quadratic (12) plus :func:`~isttheory.network.bridge.loss_offset`. The quadratic separates over the
  ``c`` outputs (``L_i = G_i ⊗ I_c``; the neuron deal restricted to one output is Perm-q (7)), so
  ``E f(x^k) = Σ_k E f^{(k)}(x^k_{(k)})``, each output a ``d = h`` problem
  (:func:`~isttheory.network.bridge.output_problems`) sharing ``L_i``: all outputs run at once through
  :class:`~isttheory.network.outputs.OutputsDynamics` (one second-moment map per round), exact, and ``c`` times
  smaller than the dense ``d = h·c`` problem (which :func:`~isttheory.network.bridge.last_layer_problem`
  refuses for digits with ``h = 256``);
* ``train="all"`` (model ``"local-quadratic"``): ``F_ref = F(w*)`` at the trained point, and the prediction is
  the gap ``lim E f(x^k) − f(w*)`` of the Gauss–Newton local model
  (:func:`~isttheory.network.local_model.local_quadratic`) under IST's deal of neurons (both layers) as the
  SGD-type form (2) with :func:`~isttheory.network.local_model.all_layer_sketch` (scale ``n`` on outgoing, ``1``
  on incoming weights: what the network's round is, for ``t = 1``). An approximation, never called exact: the
  loss is not quadratic (and the model drops the residual curvature).

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
from ..bounds import thm2_limit
from ..dynamics import ExactDynamics
from ..errors import ConvergenceError, EnumerationTooLargeError, ResourceError
from ..moments import SketchMoments
from ..problem import QuadraticProblem
from ..resources import small_blas
from ..sketches import PreconditionedPerm
from .bridge import bridge_form, deal_sketch, loss_offset, output_problems
from .data import NetworkData
from .local_model import LocalModel, all_layer_sketch
from .model import TwoLayerNet
from .outputs import OutputMoments, OutputsDynamics
from .train import NetworkRun

Model: TypeAlias = Literal["exact", "local-quadratic"]


def output_data(data: NetworkData, k: int) -> NetworkData:
    """``data`` with only output ``k`` (a one-output network's data)."""
    return replace(data, Y=data.Y[:, :, k:k + 1])


def output_net(net: TwoLayerNet, k: int) -> TwoLayerNet:
    """``net`` with only output ``k``."""
    return TwoLayerNet(net.W1, net.V[:, k:k + 1], net.activation)


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


class LastLayerTheory:
    """The exact theory of ``train="last"`` from ``net`` (its ``W₁``; its ``W₂`` is ``x⁰``), built once and
    shared by the step sizes: the outputs' problems, their moments (:class:`~isttheory.network.outputs.OutputMoments`)
    and ``Σ_k f*_k``; :meth:`dynamics` is cached per ``γ``."""

    def __init__(self, data: NetworkData, net: TwoLayerNet, local_steps: int = 1, precond: bool = False) -> None:
        self.form, self.local_steps = bridge_form(local_steps)
        problems = output_problems(data, net)
        sketch = deal_sketch(output_data(data, 0), output_net(net, 0), problems[0], precond)
        self.precond = precond
        self.table = sketch.table if isinstance(sketch, PreconditionedPerm) else None
        """The (23) scale table when ``precond`` (the same for every output: they share ``G_i``), for
        :func:`~isttheory.network.train.train_ist`'s ``scale_table``."""
        self.moments = OutputMoments(problems, sketch)
        self.x0 = np.asarray(net.V, dtype=float)
        self.f_star = float(sum(quadratic_min(p)[1] for p in problems))
        self._dyn: dict[float, OutputsDynamics] = {}

    def dynamics(self, gamma: float) -> OutputsDynamics:
        g = float(gamma)
        if g not in self._dyn:
            self._dyn[g] = self.moments.dynamics(g, self.form, self.local_steps, self.x0)
        return self._dyn[g]


class LocalTheory:
    """The local model's sketch (:func:`~isttheory.network.local_model.all_layer_sketch`) and moments, built once
    and shared by the step sizes (compiling the moment maps takes seconds; they do not depend on ``γ``)."""

    def __init__(self, data: NetworkData, local: LocalModel) -> None:
        self.local = local
        self.sketch = all_layer_sketch(data.n, local.net)
        self.moments = SketchMoments(local.problem, self.sketch)


@dataclass(frozen=True)
class PlateauPrediction:
    """``plateau = lim E F − F_ref`` predicted (``None``: see ``note``); ``model`` "exact" or "local-quadratic"."""

    gamma: float
    plateau: float | None
    model: Model
    note: str = ""


def _refused(exc: Exception) -> str:
    return f"the exact engine refused: {exc}"


def _diverges(gamma: float) -> str:
    return f"diverges in mean square at gamma = {gamma:g} (rate >= 1)"


LOCAL_STEPS_NOTE = ("no local-model prediction for t > 1: with both layers the network's local steps are not "
                    "Algorithm 1 with any sketch (the incoming weights are not scaled; see all_layer_sketch)")


@dataclass(frozen=True)
class GammaTheory:
    """What the theory predicts at one ``γ`` (module docstring): the plateau; the mean-square rate ``ρ(T)``
    (``< 1``: the step size converges in mean square, the ``region``); ``bias_limit = ‖x^∞ − x*‖`` with ``x^∞``
    the mean's limit (§4's bias, Frobenius over the trained weights); given ``tail`` rounds, also the model's
    ``E f(x^k)`` minus the reference there (``exact_tail``: exact for ``train="last"``, the local model's for
    ``train="all"``) and ``bias_at_rounds = ‖E x^K − x*‖`` at the last round ``K``. The limit is reached only
    after about ``1/(1 − ρ)`` rounds: at ``ρ = 1 − 1.5·10⁻⁵`` (a local model with flat directions) the value at
    the measured rounds, not the limit, is what a run of ``K`` rounds can be compared with."""

    plateau: PlateauPrediction
    ms_rate: float | None = None
    bias_limit: float | None = None
    exact_tail: FloatArray | None = None
    bias_at_rounds: float | None = None
    thm2_plateau: float | None = None
    """With the preconditioned deal (23) (``train="last"``): ``½ Σ_k (‖h_k‖²_L̄ + γσ_k²/(2 − γ))``, Theorem 2's limit
    of ``E‖x − x*‖²_L̄ = 2(E f − f*)`` (:func:`~isttheory.bounds.thm2_limit`) summed over the outputs. It is the exact
    limit of the SGD-type form (2) under (23); the network runs Algorithm 1 (6), whose merge ``P̄`` is not ``I``
    under (23), so the two differ and the table shows by how much."""


def predict_at(data: NetworkData, net: TwoLayerNet, gamma: float, rounds: int = 0,
               tail: NDArray[np.int64] | None = None, local_steps: int = 1, local: LocalModel | None = None,
               theory: LastLayerTheory | LocalTheory | None = None) -> GammaTheory:
    """:class:`GammaTheory` at ``gamma``: ``local=None`` is ``train="last"`` (exact, from ``theory``, built from
    ``net`` when not given), else ``train="all"`` from the local quadratic model ``local`` (an approximation).
    ``tail=None``: no exact curve (``exact_tail`` and ``bias_at_rounds`` stay ``None``)."""
    g = float(gamma)
    model: Model = "exact" if local is None else "local-quadratic"
    try:
        if local is not None:
            if local_steps != 1:
                return GammaTheory(PlateauPrediction(g, None, model, LOCAL_STEPS_NOTE))
            lt = theory if isinstance(theory, LocalTheory) and theory.local is local else LocalTheory(data, local)
            ex = ExactDynamics(local.problem, lt.sketch, g, "sgd", 1, x0=local.w_star, moments=lt.moments)
            rate, lim = ex.ms_rate, ex.limit
            f_lim = None if lim is None else ex.metrics(*lim)["f"] - local.f_at_star
            res_l = None if tail is None else ex.run(rounds, np.union1d(tail, [rounds]))
            bias = None if lim is None else float(np.linalg.norm(lim[0] - local.w_star))
            if res_l is None or tail is None or res_l.diverged_at is not None:
                return GammaTheory(_plateau(g, f_lim, model), rate, bias)
            return GammaTheory(_plateau(g, f_lim, model), rate, bias,
                               res_l.metrics["f"][np.isin(res_l.iters, tail)] - local.f_at_star,
                               float(np.linalg.norm(res_l.mean[-1] - local.w_star)))
        th = theory if isinstance(theory, LastLayerTheory) else LastLayerTheory(data, net, local_steps)
        dyn = th.dynamics(g)
        rate, lim, f_lim = dyn.ms_rate, dyn.limit, dyn.limit_f
        res = None if tail is None else dyn.run(rounds, np.union1d(tail, [rounds]))
    except (EnumerationTooLargeError, ResourceError, ConvergenceError) as exc:
        return GammaTheory(PlateauPrediction(g, None, model, _refused(exc)))
    bias = None if lim is None else float(np.linalg.norm(lim[0] - th.x0))
    thm2 = _thm2_plateau(th, g) if th.precond else None
    if res is None or tail is None:
        return GammaTheory(_plateau(g, None if f_lim is None else f_lim - th.f_star, model), rate, bias,
                           thm2_plateau=thm2)
    done = res.diverged_at is None and res.iters.size == np.union1d(tail, [rounds]).size
    return GammaTheory(_plateau(g, None if f_lim is None else f_lim - th.f_star, model), rate, bias,
                       res.f[np.isin(res.iters, tail)] - th.f_star if done else None,
                       float(np.linalg.norm(res.mean[-1] - th.x0)) if done else None, thm2)


def _thm2_plateau(th: LastLayerTheory, gamma: float) -> float | None:
    """:attr:`GammaTheory.thm2_plateau` (``None`` when ``L̄`` is singular: no ``x*``, or ``γ ≥ 2``)."""
    if gamma >= 2.0:
        return None
    total = 0.0
    for mo in th.moments.moments:
        if not mo.problem.is_L_bar_positive_definite:
            return None
        h = mo.h
        total += 0.5 * thm2_limit(gamma, float(h @ np.asarray(mo.problem.L_bar) @ h), mo.sigma2_at_x_star)
    return total


def _plateau(gamma: float, gap: float | None, model: Model) -> PlateauPrediction:
    return PlateauPrediction(gamma, None, model, _diverges(gamma)) if gap is None else \
        PlateauPrediction(gamma, float(gap), model)


def predict_plateau(data: NetworkData, net: TwoLayerNet, gamma: float, local_steps: int = 1,
                    local: LocalModel | None = None, theory: LastLayerTheory | LocalTheory | None = None
                    ) -> PlateauPrediction:
    """The predicted plateau of the loss gap (module docstring; :func:`predict_at` without the exact curve)."""
    return predict_at(data, net, gamma, 0, None, local_steps, local, theory).plateau


def exact_curve(data: NetworkData, net: TwoLayerNet, gamma: float, rounds: int, record: NDArray[np.int64],
                local_steps: int = 1, theory: LastLayerTheory | None = None) -> FloatArray | None:
    """``E F(W^k) − min F`` exactly at ``record`` (train = last; ``None`` when the engine refuses or diverges)."""
    try:
        th = LastLayerTheory(data, net, local_steps) if theory is None else theory
        with small_blas(net.hidden):
            res = th.dynamics(gamma).run(rounds, record)
    except (EnumerationTooLargeError, ResourceError):
        return None
    if res.diverged_at is not None or res.f.shape[0] != np.unique(record).size:
        return None
    out: FloatArray = res.f - th.f_star
    return out


def measured_bias(run: NetworkRun, start: TwoLayerNet) -> float:
    """``‖E w^K − w*‖`` estimated from the runs' final trained weights (``V`` for ``train="last"``, both layers
    otherwise; ``w*`` those of ``start``): ``√max(0, ‖d̄‖² − tr(Ĉov)/R)`` with ``d̄`` the mean over runs of
    ``w^K − w*`` and ``tr(Ĉov)`` the sum of its per-weight sample variances, the unbiased estimate of the squared
    norm (``‖d̄‖²`` alone is biased upwards by the Monte Carlo noise); ``nan`` for one run."""
    V = run.V - start.V[None]
    parts = [V.reshape(V.shape[0], -1)]
    if run.settings.get("train") == "all":
        W = run.W1 - start.W1[None]
        parts.append(W.reshape(W.shape[0], -1))
    D = np.concatenate(parts, axis=1)
    R = D.shape[0]
    if R < 2:
        return float("nan")
    est = float(D.mean(axis=0) @ D.mean(axis=0) - D.var(axis=0, ddof=1).sum() / R)
    return math.sqrt(max(est, 0.0))


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
