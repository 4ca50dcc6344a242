"""The exact bridge: IST on the network's last layer *is* Algorithm 1 on the paper's quadratic (12).

With ``W₁`` fixed, client ``i``'s hidden features ``Φ_i = σ(X_i W₁ᵀ)`` (m_i × h) are constants and its squared
loss is, for ``x = vec(W₂ᵀ)`` (coordinate ``j·c + k`` is ``(W₂)_{kj}``),

    ``ℓ_i(W₂) = (1/(2m_i)) ‖Φ_i W₂ᵀ − Y_i‖²_F = f_i(x) + ‖Y_i‖²_F/(2m_i)``,
    ``f_i(x) = ½ xᵀ L_i x − b_iᵀ x``, ``L_i = (Φ_iᵀΦ_i/m_i) ⊗ I_c``, ``b_i = vec(Φ_iᵀY_i/m_i)``,

the normalisation of (1)/(12) (``f = (1/n) Σ f_i``), so the network's objective is
``F = f + (1/n) Σ_i ‖Y_i‖²_F/(2m_i)`` (:func:`loss_offset`). IST's neuron deals are the draws of
:func:`~isttheory.network.train.neuron_sketch` (Perm-q (7) for one output, ``perm-groups`` for ``c``: a
neuron's outgoing column is a group), and with the hidden output scaled by ``n`` a round of
:func:`~isttheory.network.train.train_ist` is Algorithm 1 (local steps, then merge (6)) with the same ``γ``:
``form="ist"``, ``local_steps=t`` in :func:`isttheory.simulate.simulate` (:func:`bridge_form`). For ``t = 1``
Perm-q's perfect reconstruction makes it the SGD-type form (2) as well.

Two checks, used by the tests and meant for the ``network`` command's ``bridge`` field:

* :func:`compare_iterates`: same seed, same permutation stream, the network's ``W₂`` iterates against
  ``simulate``'s ``x^k`` (``keep_iterates``): round-off only;
* :func:`compare_exact`: the Monte Carlo mean of ``F(W^k) − offset`` over ``R`` runs against
  :class:`~isttheory.dynamics.ExactDynamics`' exact ``E f(x^k)``: :func:`isttheory.stats.mean_equals`
  (two-sided z-tests, Bonferroni over the recorded rounds, family-wise false-alarm rate ``alpha``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..arrays import FloatArray
from ..dynamics import ExactDynamics
from ..errors import IncompatibleSketchError, ParameterError
from ..problem import QuadraticProblem
from ..resources import check_fits as check_memory
from ..simulate import simulate
from ..sketches import PreconditionedPerm, Sketch
from ..stats import FAMILY_ALPHA, mean_equals
from ..validation import Form, check_integer
from .data import NetworkData
from .model import TwoLayerNet, features
from .train import check_fits, neuron_sketch, train_ist

ITERATE_RTOL = 1e-12
"""The bridge's iterates agree when ``max|W₂ − x| ≤ ITERATE_RTOL · max(1, max|x|)`` over runs and rounds."""


def to_vector(V: ArrayLike) -> FloatArray:
    """``x = vec(W₂ᵀ)`` from ``V = W₂ᵀ`` (..., h, c): shape (..., h·c)."""
    a = np.asarray(V, dtype=float)
    return a.reshape(a.shape[:-2] + (a.shape[-2] * a.shape[-1],))


def from_vector(x: ArrayLike, outputs: int) -> FloatArray:
    """``V = W₂ᵀ`` (..., h, c) from ``x`` (..., h·c)."""
    a = np.asarray(x, dtype=float)
    return a.reshape(a.shape[:-1] + (a.shape[-1] // outputs, outputs))


def bridge_form(local_steps: int) -> tuple[Form, int]:
    """The ``(form, local_steps)`` of :func:`~isttheory.simulate.simulate` the network's IST is: Algorithm 1."""
    return "ist", check_integer("local steps", local_steps, 1)


def last_layer_problem(data: NetworkData, net: TwoLayerNet) -> QuadraticProblem:
    """The quadratic (12) of the squared loss in ``x = vec(W₂ᵀ)`` with ``W₁`` fixed (module docstring):
    ``L_i = (Φ_iᵀΦ_i/m_i) ⊗ I_c``, ``b_i = vec(Φ_iᵀY_i/m_i)``. ``L̄`` may be singular (dead ReLU units,
    fewer rows than neurons); the problem is valid all the same (``x*`` needs ``L̄ ≻ 0``). Dense: ``n·d²`` floats
    with ``d = h·c`` (digits, h = 256, n = 8: 420 MB); a :class:`~isttheory.errors.ResourceError` when it
    would not fit."""
    check_fits(data, net)
    d = net.hidden * data.outputs
    check_memory(3 * data.n * d * d * 8, f"the last-layer quadratic with n = {data.n}, d = hidden x outputs = {d}")
    G, B = _gram(data, net)
    c = data.outputs
    L = np.einsum("njk,ab->njakb", G, np.eye(c)).reshape(data.n, net.hidden * c, net.hidden * c)
    return QuadraticProblem(L, B.reshape(data.n, -1), check_psd=False)


def _gram(data: NetworkData, net: TwoLayerNet) -> tuple[FloatArray, FloatArray]:
    """``G_i = Φ_iᵀΦ_i/m_i`` (n, h, h) and ``Φ_iᵀY_i/m_i`` (n, h, c) (module docstring)."""
    Phi = features(net.W1, data, net.activation)            # (n, M, h), zero rows on padding
    w = data.weights
    G = np.einsum("nmj,nm,nmk->njk", Phi, w, Phi)
    B = np.einsum("nmj,nm,nmc->njc", Phi, w, data.Y)
    return G, B


def output_problems(data: NetworkData, net: TwoLayerNet) -> list[QuadraticProblem]:
    """The last-layer quadratic of each output ``k`` (``d = h``): ``L_i = G_i`` for all ``k`` (one array, shared)
    and ``b_i = Φ_iᵀY_i[:, k]/m_i`` — :func:`last_layer_problem` of output ``k`` alone (the quadratic separates
    over outputs: ``L_i = G_i ⊗ I_c``)."""
    check_fits(data, net)
    check_memory(3 * data.n * net.hidden * net.hidden * 8,
                 f"the last-layer quadratic of one output with n = {data.n}, d = hidden = {net.hidden}")
    G, B = _gram(data, net)
    return [QuadraticProblem(G, np.ascontiguousarray(B[:, :, k]), check_psd=False) for k in range(data.outputs)]


def deal_sketch(data: NetworkData, net: TwoLayerNet, problem: QuadraticProblem, precond: bool = False) -> Sketch:
    """The sketch of IST's neuron deal on ``problem`` (:func:`last_layer_problem` of ``net``):
    :func:`~isttheory.network.train.neuron_sketch`, or with ``precond`` the preconditioned Perm-1 (23) built from
    ``problem``'s diagonals (``T_ij = √n (G_i)_{jj}^{-1/2}``; one output and ``hidden = clients``, else a
    :class:`~isttheory.errors.ParameterError`)."""
    if not precond:
        return neuron_sketch(data.n, net.hidden, net.outputs)
    if net.outputs != 1 or net.hidden != data.n:
        raise ParameterError(f"the preconditioned deal (23) is Perm-1 on one output: it needs hidden = clients and one "
                             f"output; got hidden = {net.hidden}, clients = {data.n}, outputs = {net.outputs}")
    try:
        return PreconditionedPerm.from_problem(problem)
    except IncompatibleSketchError as exc:
        raise ParameterError(f"the preconditioned deal (23): {exc}") from None


def loss_offset(data: NetworkData) -> float:
    """``F − f = (1/n) Σ_i ‖Y_i‖²_F/(2m_i)``: the squared loss minus the quadratic (12)."""
    return float(0.5 * np.einsum("nmc,nm->n", data.Y * data.Y, data.weights).mean())


@dataclass(frozen=True)
class IterateBridge:
    """Network against :func:`simulate` with the same draws: ``max_abs_diff`` of ``W₂`` entries over runs and
    recorded rounds, ``scale = max(1, max|x|)``, ``passed`` when ``max_abs_diff ≤ ITERATE_RTOL · scale``."""

    max_abs_diff: float
    scale: float
    passed: bool
    rounds: int
    runs: int


def compare_iterates(data: NetworkData, net: TwoLayerNet, gamma: float, rounds: int, local_steps: int = 1,
                     runs: int = 2, seed: int = 0, scale: float | None = None,
                     problem: QuadraticProblem | None = None, precond: bool = False) -> IterateBridge:
    """Run the network's IST (last layer, squared loss) and :func:`simulate` on :func:`last_layer_problem`
    (or ``problem``) with the same seed, both from ``x⁰ = vec(W₂ᵀ)``, and compare every iterate.
    ``scale`` goes to :func:`train_ist` (``None``: ``n``); ``precond``: both deal with the preconditioned
    Perm-1 (23) (one output, ``hidden = clients``: :func:`deal_sketch`)."""
    prob = last_layer_problem(data, net) if problem is None else problem
    rec = np.arange(rounds + 1)
    sketch = deal_sketch(data, net, prob, precond)
    run = train_ist(data, net, gamma, rounds, loss="squared", train="last", local_steps=local_steps, runs=runs,
                    seed=seed, scale=scale, record=rec, keep_iterates=True,
                    scale_table=sketch.table if isinstance(sketch, PreconditionedPerm) else None)
    form, t = bridge_form(local_steps)
    sim = simulate(prob, sketch, gamma, rounds, runs=runs, seed=seed,
                   form=form, local_steps=t, x0=to_vector(net.V), record=rec, keep_iterates=True, warn=False)
    assert run.V_iterates is not None and sim.iterates is not None
    if sim.diverged or sim.iterates.shape[0] != rec.size:
        raise ParameterError(f"simulate diverged at gamma = {gamma:g} ({sim.divergence_reason}); the bridge needs "
                             "a step at which the iterates stay bounded")
    mine = to_vector(run.V_iterates)
    diff = float(np.abs(mine - sim.iterates).max()) if np.all(np.isfinite(mine)) else float("inf")
    sc = max(1.0, float(np.abs(sim.iterates).max()))
    return IterateBridge(diff, sc, bool(diff <= ITERATE_RTOL * sc), int(rounds), int(runs))


@dataclass(frozen=True)
class MonteCarloBridge:
    """Monte Carlo mean of ``F − offset`` against the exact ``E f``: :func:`isttheory.stats.mean_equals` over
    the recorded rounds (``max_z`` against the Bonferroni ``threshold`` at family-wise level ``alpha``)."""

    iters: NDArray[np.int64]
    mc_mean: FloatArray
    mc_sem: FloatArray
    exact: FloatArray
    max_z: float
    threshold: float
    passed: bool
    runs: int
    alpha: float


def compare_exact(data: NetworkData, net: TwoLayerNet, gamma: float, rounds: int, runs: int = 200, seed: int = 0,
                  local_steps: int = 1, record: ArrayLike | None = None, scale: float | None = None,
                  problem: QuadraticProblem | None = None, alpha: float = FAMILY_ALPHA,
                  dynamics: ExactDynamics | None = None, precond: bool = False) -> MonteCarloBridge:
    """``R = runs`` network IST runs against :class:`ExactDynamics` on :func:`last_layer_problem` (or
    ``problem``), at the rounds ``record`` (default ``1 … rounds``; round 0 is deterministic). ``t = 1`` uses
    the exact engine's closed forms; ``t > 1`` enumerates the sketch's support (tiny hidden sizes only).
    ``dynamics``: that problem's exact dynamics at ``gamma`` from ``vec(W₂ᵀ)`` already built (its compiled
    moments reused; checked to be of ``problem``, ``gamma``, the form, ``t`` and ``x⁰``). ``precond``: both deal
    with the preconditioned Perm-1 (23) (:func:`deal_sketch`)."""
    prob = last_layer_problem(data, net) if problem is None else problem
    rec = np.arange(1, rounds + 1) if record is None else np.unique(np.asarray(record, dtype=np.int64))
    sketch = deal_sketch(data, net, prob, precond) if dynamics is None else dynamics.sketch
    run = train_ist(data, net, gamma, rounds, loss="squared", train="last", local_steps=local_steps, runs=runs,
                    seed=seed, scale=scale, record=rec,
                    scale_table=sketch.table if isinstance(sketch, PreconditionedPerm) else None)
    form, t = bridge_form(local_steps)
    if dynamics is None:
        dynamics = ExactDynamics(prob, sketch, gamma, form, t, x0=to_vector(net.V))
    elif (dynamics.problem is not prob or (dynamics.gamma, dynamics.form, dynamics.local_steps) != (gamma, form, t)
          or not np.array_equal(dynamics.x0, to_vector(net.V))):
        raise ParameterError("dynamics must be the exact dynamics of this problem, gamma, form, t and start")
    ex = dynamics.run(rounds, record=rec)
    samples = (run.loss - loss_offset(data)).T              # (R, recorded rounds): f(x^k) per run
    exact = ex.metrics["f"]
    if exact.shape[0] != rec.size:
        raise ParameterError(f"the exact moments diverged at round {ex.diverged_at}; choose a smaller gamma")
    test = mean_equals(samples, exact, alpha)
    sem = samples.std(axis=0, ddof=1) / np.sqrt(runs) if runs > 1 else np.full(rec.size, np.inf)
    return MonteCarloBridge(rec, samples.mean(axis=0), sem, exact, test.max_z, test.threshold, test.passed,
                            int(runs), float(alpha))
