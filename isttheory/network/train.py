"""IST on the two-layer network as the public IST code runs it, and distributed gradient descent.

IST, round ``k`` (all runs and clients at once; no Python loop over neurons or clients):

1. the hidden neurons are permuted and dealt in equal blocks of ``q = h/n``: client ``i`` owns block
   ``i`` (its neurons' incoming rows of ``W₁`` and outgoing columns of ``W₂`` travel together). The
   permutation is the draw of the Perm-q sketch (7) (one output) or of ``perm-groups`` (a neuron's ``c``
   outgoing weights are one group), taken from the sketch class itself with run ``r``'s stream
   ``run_seed_sequences(seed, r)[0]`` (:func:`isttheory.simulate.run_seed_sequences`), exactly as
   :func:`isttheory.simulate.simulate` draws it;
2. client ``i`` runs ``t`` local gradient steps on its own data (full batch, or ``batch`` rows drawn
   without replacement per step from the run's second stream) on its sub-network with the hidden output
   scaled by ``s = n`` (the sketch scale of (7)): ``ŷ = s·W₂[:, S_i] σ(W₁[S_i] x)``, step
   ``θ ← θ − (γ/n) ∇_θ ℓ_i`` for ``θ`` its block (``W₂[:, S_i]`` only, or also ``W₁[S_i]``);
3. the server places each block back (the blocks are disjoint and cover the neurons).

In the variable ``z_i = C_i x = n·W₂[:, S_i]`` this is Algorithm 1's local step ``z_i ← z_i − γC_i∇f_i(z_i)``
and its merge (6) ``x = (1/n) Σ z_i``: ``∇_θ ℓ_i = s·∇f_i(z_i)`` on the block, so the step ``γ/n`` on ``θ``
is ``γ·n`` on ``z_i``. ``γ`` is therefore the paper's step size (the one :func:`simulate`,
:class:`~isttheory.dynamics.ExactDynamics` and the region take); :mod:`isttheory.network.bridge` checks the
equality when only the last layer trains with the squared loss.

Gradient descent (the baseline): ``W ← W − γ∇F``, ``F = (1/n) Σ ℓ_i``, on the full network (no scale).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..arrays import FloatArray
from ..errors import NetworkShapeError, ParameterError
from ..simulate import default_record, run_seed_sequences
from ..sketches import Permutation
from ..sketches.base import IndexDraw, Sketch, TableDraw
from ..sketches.groups import PermGroups
from ..validation import DIVERGENCE_FACTOR, check_choice, check_integer, check_step_size
from .data import NetworkData
from .model import Loss, TwoLayerNet, activate, check_loss, client_losses, features, output_loss

Train: TypeAlias = Literal["last", "all"]
TRAIN: tuple[Train, ...] = ("last", "all")
"""``last``: only ``W₂`` trains (``W₁`` fixed: the exact bridge to (12)); ``all``: both layers."""

CHUNK_ROUNDS = 256
"""Rounds of permutations drawn at a time (the draws are sequential, so the chunk does not change them)."""


@dataclass(frozen=True)
class NetworkRun:
    """A run of IST or GD. ``loss[j, r]`` is run ``r``'s ``F(W^k)`` at ``k = iters[j]``; ``W1`` (R, h, p)
    and ``V`` (R, h, c) the final weights; ``V_iterates[j, r]`` run ``r``'s ``V`` at ``iters[j]`` when
    ``keep_iterates`` (``V.reshape(R, h·c)`` is the vector ``x`` of (12))."""

    method: str
    iters: NDArray[np.int64]
    loss: FloatArray
    W1: FloatArray
    V: FloatArray
    V_iterates: FloatArray | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def loss_mean(self) -> FloatArray:
        out: FloatArray = self.loss.mean(axis=1)
        return out

    @property
    def loss_sem(self) -> FloatArray | None:
        """Standard error ``std/√R`` of the mean loss (``None`` for one run)."""
        R = self.loss.shape[1]
        if R < 2:
            return None
        out: FloatArray = self.loss.std(axis=1, ddof=1) / math.sqrt(R)
        return out

    @property
    def diverged(self) -> bool:
        """A weight left ``DIVERGENCE_FACTOR · max(1, max|w⁰|)`` or became non-finite (the rule of
        :func:`isttheory.simulate.simulate`, :data:`isttheory.validation.DIVERGENCE_FACTOR`): the run stopped at
        ``settings["diverged_at"]`` and later losses are NaN."""
        return self.settings.get("diverged_at") is not None or not bool(np.all(np.isfinite(self.loss)))


def check_train(train: object) -> Train:
    """``last`` or ``all`` (:class:`~isttheory.errors.ParameterError` otherwise)."""
    return check_choice("train", train, TRAIN)


def check_fits(data: NetworkData, net: TwoLayerNet) -> None:
    """The network's sizes match the data, and its hidden neurons deal in equal blocks to the clients."""
    if net.inputs != data.inputs or net.outputs != data.outputs:
        raise NetworkShapeError(f"the network maps {net.inputs} inputs to {net.outputs} outputs; the data has "
                                f"{data.inputs} features and {data.outputs} outputs")
    if net.hidden % data.n:
        raise NetworkShapeError(f"IST deals the hidden neurons in equal blocks: the hidden size {net.hidden} must be "
                                f"a multiple of the number of clients n = {data.n}")


def neuron_sketch(n: int, hidden: int, outputs: int) -> Sketch:
    """The sketch whose draws are IST's neuron deals, on ``x = vec(W₂ᵀ)`` (d = hidden·outputs): Perm-q (7)
    for one output, ``perm-groups`` with neuron ``j``'s group ``{j·c, …, j·c + c − 1}`` otherwise."""
    if outputs == 1:
        return Permutation(n, hidden)
    return PermGroups(n, hidden * outputs, [list(range(j * outputs, (j + 1) * outputs)) for j in range(hidden)])


def neurons_of(draw: IndexDraw | TableDraw, outputs: int) -> NDArray[np.intp]:
    """Neuron indices (…, n, q) of a :func:`neuron_sketch` draw (a group's first coordinate ``j·c``, over ``c``)."""
    assert isinstance(draw, IndexDraw)  # Perm-q and perm-groups draw in index form
    out: NDArray[np.intp] = draw.coords[..., ::outputs] // outputs
    return out


def _check_common(data: NetworkData, net: TwoLayerNet, gamma: float, rounds: int, loss: object, train: object,
                  record: ArrayLike | None) -> tuple[float, Loss, Train, NDArray[np.int64]]:
    g = check_step_size(gamma)
    K = check_integer("rounds K", rounds, 1)
    ls = check_loss(loss, data)
    tr = check_train(train)
    check_fits(data, net)
    rec = default_record(K) if record is None else np.unique(np.asarray(record, dtype=np.int64))
    if rec.size == 0 or rec[0] < 0 or rec[-1] > K:
        raise ParameterError(f"recorded rounds must lie in [0, {K}]")
    return g, ls, tr, rec


def train_ist(data: NetworkData, net: TwoLayerNet, gamma: float, rounds: int, *, loss: Loss = "squared",
              train: Train = "last", local_steps: int = 1, runs: int = 1, seed: int = 0, first_run: int = 0,
              batch: int | None = None, scale: float | None = None, record: ArrayLike | None = None,
              keep_iterates: bool = False, scale_table: ArrayLike | None = None) -> NetworkRun:
    """IST on ``net`` (the module docstring's rounds) for ``rounds`` rounds, ``runs`` independent runs.

    ``scale`` is the hidden-output scale ``s`` of the sub-networks: ``None`` gives ``n``, the Perm-q scale (7)
    that makes the network Algorithm 1 (other values, e.g. ``1`` for no scaling, are not the paper's method).
    ``batch`` draws that many of a client's rows per local step (``None``: full batch, the deterministic
    gradient). ``record`` lists the rounds at which ``F`` is recorded (default 101 evenly spaced).

    ``scale_table`` (n, h), last layer only: client ``i`` scales neuron ``j``'s output by ``T_ij`` (the sketch
    ``C_i = Diag(T_i)`` on its neurons, e.g. the preconditioned Perm-1 (23), ``T_ij = √n (G_i)_{jj}^{-1/2}``): it
    starts from ``z = T_i θ``, takes the local steps ``z ← z − γC_i∇f_i(z)`` (``θ ← θ − γ∇f_i(z)``), and the server
    keeps ``x = z/n`` ((6)): Algorithm 1 with that sketch, checked against :func:`simulate` in the tests."""
    g, ls, tr, rec = _check_common(data, net, gamma, rounds, loss, train, record)
    t = check_integer("local steps", local_steps, 1)
    R = check_integer("runs R", runs, 1)
    table = None if scale_table is None else _check_table(scale_table, data.n, net.hidden, tr, scale)
    check_integer("seed", seed, 0)
    check_integer("first_run", first_run, 0)
    n, h, c, act = data.n, net.hidden, net.outputs, net.activation
    M = data.X.shape[1]
    if batch is not None:
        check_integer("batch", batch, 1)
        if batch > int(data.counts.min()):
            raise ParameterError(f"batch {batch} exceeds the smallest client's {int(data.counts.min())} rows")
    s = float(n) if scale is None else check_step_size(scale)
    lr = g / n
    sketch = neuron_sketch(n, h, c)
    streams = [run_seed_sequences(seed, first_run + r) for r in range(R)]
    perm_rngs = [np.random.Generator(np.random.PCG64(a)) for a, _ in streams]
    batch_rngs = [np.random.Generator(np.random.PCG64(b)) for _, b in streams]

    W1 = np.tile(net.W1, (R, 1, 1))
    V = np.tile(net.V, (R, 1, 1))
    Phi = features(net.W1, data, act) if tr == "last" else None  # (n, M, h), fixed when W1 is
    PhiT = None if Phi is None else np.ascontiguousarray(np.swapaxes(Phi, 1, 2))  # (n, h, M): a neuron's row
    runs_ix = np.arange(R)[:, None, None]
    clients_ix = np.arange(n)[None, :, None]
    losses = np.full((rec.size, R), np.nan)
    kept = np.zeros((rec.size, R, h, c)) if keep_iterates else None
    rec_pos = {int(k): j for j, k in enumerate(rec)}

    def record_at(k: int) -> None:
        j = rec_pos[k]
        if Phi is not None:  # W1 fixed: the features are known
            losses[j] = output_loss(Phi @ V[:, None, :, :], data, ls)[0].mean(axis=-1)
        else:
            losses[j] = client_losses(W1, V, data, act, ls).mean(axis=-1)
        if kept is not None:
            kept[j] = V

    def rows_for_step() -> tuple[NDArray[np.intp] | None, FloatArray, FloatArray, FloatArray]:
        """Row indices (R, n, B) of this local step (None: full batch), and X, Y, weights for them."""
        if batch is None:
            return None, data.X, data.Y, data.weights
        keys = np.stack([rng.random((n, M)) for rng in batch_rngs])
        keys[:, data.weights == 0] = np.inf
        idx = np.argsort(keys, axis=-1)[..., :batch]
        Xb = data.X[clients_ix, idx]
        Yb = data.Y[clients_ix, idx]
        return idx, Xb, Yb, np.full(idx.shape, 1.0 / batch)

    # the first round with a weight beyond DIVERGENCE_FACTOR·max(1, max|w⁰|), or not finite (simulate's rule): the
    # run stops there
    diverged_at: int | None = None
    limit = DIVERGENCE_FACTOR * max(1.0, float(np.abs(net.V).max()), float(np.abs(net.W1).max()))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        k = 0
        if 0 in rec_pos:
            record_at(0)
        while k < rounds:
            size = min(CHUNK_ROUNDS, rounds - k)
            deals = np.stack([neurons_of(sketch.sample(rng, size), c) for rng in perm_rngs], axis=1)  # (size, R, n, q)
            for step in range(size):
                nb = deals[step]                      # (R, n, q): client i's neurons
                Vb = V[runs_ix, nb]                   # (R, n, q, c)
                W1b = W1[runs_ix, nb]                 # (R, n, q, p)
                for _ in range(t):
                    idx, Xs, Ys, ws = rows_for_step()
                    dA: FloatArray | None = None
                    if PhiT is not None and idx is None:  # the block's columns of the fixed features
                        A = np.swapaxes(PhiT[clients_ix, nb], -1, -2)           # (R, n, M, q), rows gathered
                    elif Phi is not None:
                        A = np.take_along_axis(Phi[clients_ix, idx], nb[:, :, None, :], axis=-1)
                    else:
                        H = Xs @ np.swapaxes(W1b, -1, -2)  # (R, n, rows, q)
                        A, dA = activate(H, act)
                    if table is not None:  # z = Tθ: forward with z, θ-step γ∇f (∇_θ = T∇_z and lr γ/T: T cancels)
                        Sb = table[clients_ix, nb][..., None]                     # (R, n, q, 1)
                        G = _loss_grad(A @ (Sb * Vb), Ys, ws, ls)
                        Vb = Vb - g * (np.swapaxes(A, -1, -2) @ G)
                        continue
                    out = s * (A @ Vb)
                    G = _loss_grad(out, Ys, ws, ls)       # (R, n, rows, c), weights included
                    gV = s * (np.swapaxes(A, -1, -2) @ G)
                    if dA is not None:
                        gH = s * (G @ np.swapaxes(Vb, -1, -2)) * dA
                        W1b = W1b - lr * (np.swapaxes(gH, -1, -2) @ Xs)
                    Vb = Vb - lr * gV
                V = V.copy()
                V[runs_ix, nb] = Vb if table is None else table[clients_ix, nb][..., None] * Vb / n  # x = z/n
                if tr == "all":
                    W1 = W1.copy()
                    W1[runs_ix, nb] = W1b
                k += 1
                if not (np.abs(V).max() <= limit and np.abs(W1).max() <= limit):
                    diverged_at = k
                    break
                if k in rec_pos:
                    record_at(k)
            if diverged_at is not None:
                break
    settings = {"method": "ist", "diverged_at": diverged_at, "n": n, "hidden": h, "outputs": c, "activation": act,
                "loss": ls, "train": tr, "gamma": g, "rounds": int(rounds), "local_steps": t, "runs": R,
                "seed": int(seed), "first_run": int(first_run), "batch": batch,
                "scale": s if table is None else "table", "sketch": sketch.spec,
                "data": data.name, "split": data.split}
    return NetworkRun("ist", rec, losses, W1, V, kept, settings)


def _check_table(table: ArrayLike, n: int, hidden: int, train: Train, scale: float | None) -> FloatArray:
    """A per-(client, neuron) scale table ``T`` (n, h): finite, positive, last layer only, not with ``scale``."""
    T = np.asarray(table, dtype=float)
    if T.shape != (n, hidden) or not np.all(np.isfinite(T)) or not np.all(T > 0):
        raise ParameterError(f"scale_table must be a finite positive ({n}, {hidden}) array (clients x hidden)")
    if train != "last" or scale is not None:
        raise ParameterError("scale_table is for train='last' alone, and replaces scale")
    return T


def _loss_grad(out: FloatArray, Y: FloatArray, w: FloatArray, loss: Loss) -> FloatArray:
    """``∂ℓ_i/∂out`` for outputs (R, n, rows, c), targets ``Y`` and row weights ``w`` broadcastable to them."""
    if loss == "squared":
        g: FloatArray = (out - Y) * w[..., None]
        return g
    top = out.max(axis=-1, keepdims=True)
    z = np.exp(out - top)
    p: FloatArray = (z / z.sum(axis=-1, keepdims=True) - Y) * w[..., None]
    return p


def train_gd(data: NetworkData, net: TwoLayerNet, gamma: float, rounds: int, *, loss: Loss = "squared",
             train: Train = "last", record: ArrayLike | None = None, keep_iterates: bool = False) -> NetworkRun:
    """Distributed gradient descent ``W ← W − γ∇F`` (``F = (1/n) Σ ℓ_i``; every client computes ``∇ℓ_i`` on the
    full network, the server averages): the baseline IST is compared with. One deterministic run."""
    g, ls, tr, rec = _check_common(data, net, gamma, rounds, loss, train, record)
    n, act = data.n, net.activation
    W1, V = net.W1.copy(), net.V.copy()
    rows = data.X.shape[0] * data.X.shape[1]
    X2 = data.X.reshape(rows, -1)                            # every client's rows (padding has weight 0)
    Phi, dA = activate(X2 @ W1.T, act)
    losses = np.full((rec.size, 1), np.nan)
    kept = np.zeros((rec.size, 1) + V.shape) if keep_iterates else None
    rec_pos = {int(k): j for j, k in enumerate(rec)}
    diverged_at: int | None = None
    limit = DIVERGENCE_FACTOR * max(1.0, float(np.abs(V).max()), float(np.abs(W1).max()))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(rounds + 1):
            if tr == "all" and k > 0:
                Phi, dA = activate(X2 @ W1.T, act)
            vals, G = output_loss((Phi @ V).reshape(data.Y.shape), data, ls)
            if k in rec_pos:
                losses[rec_pos[k], 0] = vals.mean()
                if kept is not None:
                    kept[rec_pos[k], 0] = V
            if k == rounds:
                break
            G2 = G.reshape(rows, -1)
            gV = Phi.T @ G2 / n                              # (1/n) Σ_i ∇ℓ_i (the weights 1/m_i are in G)
            if tr == "all":
                W1 = W1 - g * (((G2 @ V.T) * dA).T @ X2) / n
            V = V - g * gV
            if not (np.abs(V).max() <= limit and np.abs(W1).max() <= limit):
                diverged_at = k + 1
                break
    settings = {"method": "gd", "diverged_at": diverged_at, "n": n, "hidden": net.hidden, "outputs": net.outputs,
                "activation": act, "loss": ls, "train": tr, "gamma": g, "rounds": int(rounds), "data": data.name,
                "split": data.split}
    return NetworkRun("gd", rec, losses, W1[None], V[None], kept, settings)
