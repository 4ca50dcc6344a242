"""The local quadratic model of the network when both layers train (issue 18): Gauss–Newton at a trained point.

Parameters are flattened **neuron-major over both layers**: neuron ``j`` owns the ``p + c`` consecutive
coordinates ``j·(p+c) … (j+1)·(p+c) − 1``, its incoming row ``W₁[j]`` (``p`` entries) followed by its outgoing
column ``V[j] = W₂[:, j]`` (``c`` entries). This extends :func:`~isttheory.network.train.neuron_sketch`'s
grouping (last layer only: neuron ``j``'s group is ``{j·c, …, j·c + c − 1}``) to both layers, so that a
neuron's incoming row and outgoing column form one group of ``perm-groups`` (:func:`all_layer_sketch`), as IST
deals them. ``P = h·(p + c)`` parameters.

At a point ``w*`` (train gradient descent to near-stationarity first: :func:`trained_point`), client ``i``'s
squared loss ``ℓ_i(w) = (1/(2m_i)) Σ_rows ‖ŷ(w) − y‖²`` is modelled by the quadratic (12)
``f_i(w) = ½ wᵀL_i w − b_iᵀw`` with

* ``L_i = J_iᵀJ_i/m_i``: the **Gauss–Newton part** of ``∇²ℓ_i(w*)`` (the residual-curvature term
  ``Σ_rows r·∇²ŷ`` is dropped; it vanishes where the residuals do), ``J_i`` the Jacobian of client ``i``'s
  outputs (``m_i·c`` rows) with respect to all ``P`` parameters in the order above;
* ``b_i = L_i w* − ∇ℓ_i(w*)``, so that ``∇f_i(w*) = ∇ℓ_i(w*)``.

So ``f_i(w) = ℓ_i(w*) + ∇ℓ_i(w*)ᵀ(w − w*) + ½(w − w*)ᵀL_i(w − w*) + const``: the model is an approximation,
never the network itself. The derivatives are **exact NumPy formulas** (no new dependency), checked by central
finite differences in ``tests/test_network_cli.py``; a later measurement would compare them (size and speed)
with JAX's ``hessian``, which this module does not use.

Dense: ``L`` is ``n·P²`` floats; :func:`local_quadratic` refuses (:class:`~isttheory.errors.ResourceError`)
when that would not fit (digits with ``h = 256``: ``P = 18 944``, 23 GB for ``n = 8``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arrays import FloatArray
from ..errors import ParameterError
from ..problem import QuadraticProblem
from ..resources import check_fits as check_memory
from ..sketches.groups import ScaledPermGroups
from .data import NetworkData
from .model import TwoLayerNet, activate, network_loss
from .train import check_fits, train_gd


def parameter_count(net: TwoLayerNet) -> int:
    """``P = h·(p + c)``."""
    return net.hidden * (net.inputs + net.outputs)


def to_params(net: TwoLayerNet) -> FloatArray:
    """``w`` (P,): neuron ``j``'s ``W₁[j]`` then ``V[j]`` at ``j·(p+c)`` (module docstring)."""
    out: FloatArray = np.concatenate([net.W1, net.V], axis=1).ravel()
    return out


def from_params(w: FloatArray, like: TwoLayerNet) -> TwoLayerNet:
    """The network of ``w`` (:func:`to_params`' order) with ``like``'s sizes and activation."""
    p = like.inputs
    blocks = np.asarray(w, dtype=float).reshape(like.hidden, p + like.outputs)
    return TwoLayerNet(blocks[:, :p], blocks[:, p:], like.activation)


def neuron_groups(hidden: int, inputs: int, outputs: int) -> list[list[int]]:
    """Neuron ``j``'s group ``{j·(p+c), …, (j+1)·(p+c) − 1}``: its incoming row and outgoing column."""
    w = inputs + outputs
    return [list(range(j * w, (j + 1) * w)) for j in range(hidden)]


def all_layer_sketch(n: int, net: TwoLayerNet) -> ScaledPermGroups:
    """IST's neuron deal on both layers as a sketch: ``perm-groups`` over :func:`neuron_groups` with scale ``n`` on
    a neuron's outgoing weights and ``1`` on its incoming ones.

    Why those scales: client ``i`` trains ``θ`` (its neurons' weights) on ``ℓ_i(C̃θ)`` with ``C̃ = Diag(1 on W₁,
    n on W₂)`` (the release code scales the hidden *output* by ``n``), step ``γ/n``, and the server puts ``θ`` back.
    One local step from ``θ = x`` on the owned block is ``x⁺ = x − (γ/n) Σ_i C_i∇ℓ_i(C_i x)`` with
    ``C_i = Diag(owned)·C̃``: the SGD-type form (2) with this sketch, for any loss (``tests/test_network.py`` checks
    one network round against it). It is *not* Algorithm 1 with scale ``n`` on both layers (which would also
    multiply the incoming rows by ``n``), and with ``t > 1`` local steps it is not Algorithm 1 with any sketch
    (``(γ/n)C_i² ≠ γC_i`` on the incoming weights), so the local model predicts ``t = 1`` only."""
    w = net.inputs + net.outputs
    scales = np.tile(np.concatenate([np.ones(net.inputs), np.full(net.outputs, float(n))]), net.hidden)
    assert scales.size == net.hidden * w
    return ScaledPermGroups(n, parameter_count(net), neuron_groups(net.hidden, net.inputs, net.outputs), scales)


def jacobians(data: NetworkData, net: TwoLayerNet) -> FloatArray:
    """``J`` (n, M, c, P): ``∂ŷ_k/∂w`` of every client row (zero on padding rows, whose weight is 0 anyway).

    ``ŷ_k = Σ_j V[j,k] σ(W₁[j]·x)``: ``∂ŷ_k/∂W₁[j] = V[j,k] σ'(W₁[j]·x) x`` and ``∂ŷ_k/∂V[j,k'] = δ_kk' σ(W₁[j]·x)``."""
    n, M, p = data.X.shape
    h, c = net.hidden, net.outputs
    A, dA = activate(data.X @ net.W1.T, net.activation)           # (n, M, h)
    J = np.zeros((n, M, c, h, p + c))
    J[..., :p] = np.einsum("nmj,jk,nmi->nmkji", dA, net.V, data.X)
    ks = np.arange(c)
    J[:, :, ks, :, p + ks] = np.moveaxis(np.broadcast_to(A[:, :, None, :], (n, M, c, h)), 2, 0)
    return J.reshape(n, M, c, h * (p + c))


def client_gradients(data: NetworkData, net: TwoLayerNet) -> FloatArray:
    """``∇ℓ_i(w)`` (n, P) of the squared loss: ``Σ_rows (1/m_i) J_rᵀ(ŷ_r − y_r)``."""
    J = jacobians(data, net)
    A, _ = activate(data.X @ net.W1.T, net.activation)
    resid = (A @ net.V - data.Y) * data.weights[:, :, None]        # (n, M, c)
    out: FloatArray = np.einsum("nmkP,nmk->nP", J, resid)
    return out


@dataclass(frozen=True, eq=False)
class LocalModel:
    """The local quadratic at ``w_star``: ``problem`` (L_i Gauss–Newton, b_i = L_i w* − ∇ℓ_i(w*)), the network
    loss ``F(w*)``, ``‖∇F(w*)‖`` (how stationary the point is) and the quadratic's value ``f(w*)``."""

    problem: QuadraticProblem
    net: TwoLayerNet
    w_star: FloatArray
    loss_at_star: float
    grad_norm: float
    f_at_star: float
    hessian: str = "gauss-newton"


def local_quadratic(data: NetworkData, net: TwoLayerNet) -> LocalModel:
    """The local quadratic model of the squared loss at ``net`` (module docstring)."""
    check_fits(data, net)
    if data.weights.shape[1] == 0:
        raise ParameterError("the data has no rows")
    P = parameter_count(net)
    rows = data.X.shape[0] * data.X.shape[1] * data.outputs
    check_memory(8 * (data.n * P * P + 2 * rows * P),
                 f"the local quadratic with n = {data.n}, P = hidden x (inputs + outputs) = {P}")
    J = jacobians(data, net)
    Jw = (J * np.sqrt(data.weights)[:, :, None, None]).reshape(data.n, -1, P)   # rows scaled by √(1/m_i)
    L = np.swapaxes(Jw, -1, -2) @ Jw        # Σ_rows J_rᵀJ_r/m_i as one batched product (an einsum of the three
    L = 0.5 * (L + np.swapaxes(L, -1, -2))  # operands without a path was a naive loop: 50 s at P = 1184)
    g = client_gradients(data, net)
    w = to_params(net)
    b = L @ w - g
    prob = QuadraticProblem(L, b, check_psd=False)
    return LocalModel(prob, net, w, network_loss(net, data, "squared"), float(np.linalg.norm(g.mean(axis=0))),
                      float(prob.f(w)))


def trained_point(data: NetworkData, net: TwoLayerNet, rounds: int = 2000, gamma: float | None = None
                  ) -> tuple[TwoLayerNet, float]:
    """``w*``: distributed GD on both layers (squared loss) for ``rounds`` steps from ``net``; ``gamma`` (default
    ``0.5/λ_max(L̄)`` of the Gauss–Newton model at ``net``). Returns the network and the step used."""
    if gamma is None:
        lam = float(np.linalg.eigvalsh(local_quadratic(data, net).problem.L_bar)[-1])
        gamma = 0.5 / lam
    run = train_gd(data, net, gamma, rounds, loss="squared", train="all", record=[rounds])
    if run.diverged:
        raise ParameterError(f"gradient descent to the trained point diverged at step {gamma:g}")
    return TwoLayerNet(run.W1[0], run.V[0], net.activation), float(gamma)
