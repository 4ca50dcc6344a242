"""The two-layer fully connected network ``y = W₂ σ(W₁ x)`` and its losses, batched over runs and clients.

Weights are stored neuron-major: ``W1`` (h, p) holds neuron ``j``'s incoming row, and ``V = W₂ᵀ`` (h, c)
its outgoing column, so one gather of neuron indices takes a neuron's two halves together, as IST deals
them, and ``V.ravel()`` is the vector ``x = vec(W₂ᵀ)`` of the quadratic (12) when only the last layer trains
(:mod:`isttheory.network.bridge`: coordinate ``j·c + k`` is ``(W₂)_{kj}``).

Losses, client ``i`` with ``m_i`` rows (:class:`~isttheory.network.data.NetworkData` weights ``1/m_i``):

* ``squared``: ``ℓ_i = (1/(2m_i)) Σ_rows ‖ŷ − y‖²`` (one-hot ``y`` for classification);
* ``cross_entropy``: ``ℓ_i = (1/m_i) Σ_rows [logsumexp(ŷ) − ŷ_label]`` (softmax outputs).

The network's objective is ``F = (1/n) Σ_i ℓ_i``, the normalisation of ``f = (1/n) Σ f_i`` in (1)/(12).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np

from ..arrays import FloatArray
from ..errors import NetworkShapeError, NonFiniteError, ParameterError
from ..validation import check_choice, check_integer
from .data import NetworkData

Activation: TypeAlias = Literal["relu", "tanh"]
ACTIVATIONS: tuple[Activation, ...] = ("relu", "tanh")
Loss: TypeAlias = Literal["squared", "cross_entropy"]
LOSSES: tuple[Loss, ...] = ("squared", "cross_entropy")


def check_activation(activation: object) -> Activation:
    """The activation checked (:class:`~isttheory.errors.ParameterError` otherwise)."""
    return check_choice("activation", activation, ACTIVATIONS)


def check_loss(loss: object, data: NetworkData) -> Loss:
    """The loss checked against the data's task: cross-entropy needs classification."""
    name = check_choice("loss", loss, LOSSES)
    if name == "cross_entropy" and data.task != "classification":
        raise ParameterError("cross_entropy needs a classification task; this data is regression")
    return name


@dataclass(frozen=True, eq=False)
class TwoLayerNet:
    """Weights of ``y = W₂ σ(W₁ x)`` (no biases): ``W1`` (h, p), ``V = W₂ᵀ`` (h, c), activation ``σ``."""

    W1: FloatArray
    V: FloatArray
    activation: Activation = "relu"

    def __post_init__(self) -> None:
        W1 = np.array(self.W1, dtype=float)
        V = np.array(self.V, dtype=float)
        if W1.ndim != 2 or V.ndim != 2 or W1.shape[0] != V.shape[0] or W1.shape[0] < 1:
            raise NetworkShapeError(f"W1 must be (h, p) and V = W2^T (h, c) with the same h >= 1; got "
                                    f"{W1.shape} and {V.shape}")
        if not (np.all(np.isfinite(W1)) and np.all(np.isfinite(V))):
            raise NonFiniteError("network weights must be finite")
        W1.setflags(write=False)
        V.setflags(write=False)
        object.__setattr__(self, "W1", W1)
        object.__setattr__(self, "V", V)
        object.__setattr__(self, "activation", check_activation(self.activation))

    @property
    def hidden(self) -> int:
        return int(self.W1.shape[0])

    @property
    def inputs(self) -> int:
        return int(self.W1.shape[1])

    @property
    def outputs(self) -> int:
        return int(self.V.shape[1])

    @property
    def W2(self) -> FloatArray:
        """``W₂`` (c, h)."""
        out: FloatArray = self.V.T
        return out


def init_network(data: NetworkData, hidden: int, activation: Activation = "relu", seed: int = 0) -> TwoLayerNet:
    """Random initial weights for ``data``'s sizes: ``W1 ~ N(0, 2/p)`` (He) for ReLU, ``N(0, 1/p)`` for tanh,
    ``W2 ~ N(0, 1/h)``; drawn from ``default_rng(seed)``, independent of the training streams."""
    h = check_integer("hidden size", hidden, 1)
    act = check_activation(activation)
    check_integer("seed", seed, 0)
    rng = np.random.default_rng(seed)
    p, c = data.inputs, data.outputs
    W1 = rng.standard_normal((h, p)) * np.sqrt((2.0 if act == "relu" else 1.0) / p)
    V = rng.standard_normal((h, c)) / np.sqrt(h)
    return TwoLayerNet(W1, V, act)


def activate(H: FloatArray, activation: Activation) -> tuple[FloatArray, FloatArray]:
    """``(σ(H), σ'(H))`` elementwise (ReLU's derivative is taken as 0 at 0)."""
    if activation == "relu":
        return np.maximum(H, 0.0), (H > 0).astype(float)
    A = np.tanh(H)
    return A, 1.0 - A * A


def features(W1: FloatArray, data: NetworkData, activation: Activation) -> FloatArray:
    """Hidden features ``Φ = σ(X W₁ᵀ)``: ``W1`` (..., h, p) gives (..., n, M, h) (zero rows on padding)."""
    H = data.X @ np.swapaxes(W1, -1, -2)[..., None, :, :]
    out: FloatArray = activate(H, activation)[0]
    return out


def output_loss(out: FloatArray, data: NetworkData, loss: Loss) -> tuple[FloatArray, FloatArray]:
    """Client losses ``ℓ_i`` (..., n) of outputs ``out`` (..., n, M, c) and ``∂ℓ_i/∂out`` (..., n, M, c)
    (the weights ``1/m_i`` included, zero on padding)."""
    w = data.weights
    if loss == "squared":
        r = out - data.Y
        vals: FloatArray = 0.5 * np.einsum("...nmc,...nmc,nm->...n", r, r, w)
        return vals, r * w[:, :, None]
    top = out.max(axis=-1, keepdims=True)
    z = np.exp(out - top)
    s = z.sum(axis=-1, keepdims=True)
    lse = np.log(s)[..., 0] + top[..., 0]
    row = lse - np.einsum("...nmc,nmc->...nm", out, data.Y)
    vals = np.einsum("...nm,nm->...n", row, w)
    return vals, (z / s - data.Y) * w[:, :, None]


def client_losses(W1: FloatArray, V: FloatArray, data: NetworkData, activation: Activation,
                  loss: Loss) -> FloatArray:
    """``ℓ_i`` (..., n) of the full network (no scale: the server's model) with weights batched as
    ``W1`` (..., h, p), ``V`` (..., h, c)."""
    out = features(W1, data, activation) @ V[..., None, :, :]
    return output_loss(out, data, loss)[0]


def network_loss(net: TwoLayerNet, data: NetworkData, loss: Loss = "squared") -> float:
    """``F = (1/n) Σ_i ℓ_i`` of ``net`` on ``data``."""
    return float(client_losses(net.W1, net.V, data, net.activation, check_loss(loss, data)).mean())
