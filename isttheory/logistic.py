"""Beyond quadratics: IST on ℓ2-regularised logistic regression with a dataset scikit-learn ships.

``f_i(x) = (1/m_i) Σ_{rows} log(1 + exp(−y a·x)) + (λ/2)‖x‖²`` with ``y ∈ {±1}``, rows split across
``n`` clients either uniformly (``iid``) or sorted by label (``sorted``: each client sees mostly one
class — heterogeneous). Algorithm 1 with one local step (6), Perm-q sketches: client ``i`` trains only
its block ``S_i`` of coordinates starting from ``C_i x``, then the server averages. Compared with
distributed gradient descent on the same data.

Observed on breast-cancer data (n = 5, λ = 1e-2, x⁰ = 0, f(x⁰) − f* = 0.59): gradient descent converges
(1.4e-8 after 1500 steps at γ = 0.3) while IST stalls at f − f* ≈ 0.052–0.054 for every γ in
[0.02, 0.3] and for both splits — a bias that does not shrink with the step, as the corrected
Theorem 2 says for quadratics (the neighbourhood ‖h‖²_L̄ is γ-independent), and which label
heterogeneity barely moves here (submodel training dominates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from .arrays import FloatArray
from .errors import ParameterError
from .generators import load_dataset, split_rows
from .simulate import run_seed_sequences
from .sketches import Permutation


@dataclass(frozen=True)
class LogisticProblem:
    """Clients' data ``A[i]`` (m_i × d), labels ``y[i]`` in ±1, regulariser ``lam``."""

    A: list[FloatArray]
    y: list[FloatArray]
    lam: float

    @property
    def n(self) -> int:
        return len(self.A)

    @property
    def d(self) -> int:
        return int(self.A[0].shape[1])

    def f(self, x: FloatArray) -> FloatArray:
        """``f(x) = (1/n) Σ f_i(x)`` for ``x`` of shape (..., d)."""
        vals = [np.logaddexp(0, -(x @ a.T) * y).mean(axis=-1) for a, y in zip(self.A, self.y, strict=True)]
        out: FloatArray = np.mean(vals, axis=0) + 0.5 * self.lam * np.sum(x * x, axis=-1)
        return out

    def grad(self, x: FloatArray) -> FloatArray:
        g = np.zeros_like(x)
        for a, y in zip(self.A, self.y, strict=True):
            s = -y / (1 + np.exp((x @ a.T) * y))  # d/dt log(1 + e^{−yt}) = −y σ(−yt)
            g += (s @ a) / a.shape[0]
        return g / self.n + self.lam * x

    def solve(self) -> tuple[FloatArray, float]:
        """``(x*, f*)``: L-BFGS, then Newton steps with the exact Hessian until ``‖∇f‖ ≤ 1e-12``."""
        res = minimize(lambda x: float(self.f(x)), np.zeros(self.d), jac=self.grad, method="L-BFGS-B",
                       options={"gtol": 1e-10, "ftol": 0.0, "maxiter": 10_000})
        x = res.x
        for _ in range(20):
            g = self.grad(x)
            if np.linalg.norm(g) <= 1e-12:
                break
            x = x - np.linalg.solve(self.hessian(x), g)
        return x, float(self.f(x))

    def hessian(self, x: FloatArray) -> FloatArray:
        H = self.lam * np.eye(self.d)
        for a, y in zip(self.A, self.y, strict=True):
            p = 1 / (1 + np.exp(-(a @ x) * y))
            H += (a.T * (p * (1 - p))) @ a / a.shape[0] / self.n
        return H


def logistic_problem(name: str = "breast_cancer", n: int = 5, split: str = "sorted", lam: float = 1e-2,
                     seed: int = 0) -> LogisticProblem:
    """A shipped dataset's binary task (target above its mean → +1; for a 0/1 target, the class), rows
    split over ``n`` clients."""
    X, t = load_dataset(name)
    y = np.where(t > t.mean(), 1.0, -1.0)
    if len(np.unique(y)) < 2:
        raise ParameterError(f"dataset {name!r} gives a single class")
    parts = split_rows(y, n, split, seed)
    return LogisticProblem([X[p] for p in parts], [y[p] for p in parts], lam)


@dataclass
class LogisticRun:
    iters: NDArray[np.int64]
    gap_ist: FloatArray  # mean over runs of f(x^k) − f*
    gap_gd: FloatArray
    grad2_ist: FloatArray
    grad2_gd: FloatArray


def run_ist_vs_gd(prob: LogisticProblem, gamma: float, iters: int, runs: int = 20, seed: int = 0) -> LogisticRun:
    """Algorithm 1 (6) with Perm-q (q = d/n) against distributed GD, from ``x⁰ = 0``."""
    sk = Permutation(prob.n, prob.d)
    x_star, f_star = prob.solve()
    rngs = [np.random.Generator(np.random.PCG64(run_seed_sequences(seed, r)[0])) for r in range(runs)]
    x = np.zeros((runs, prob.d))
    gd = np.zeros(prob.d)
    rec = np.unique(np.linspace(0, iters, min(iters + 1, 101)).round().astype(np.int64))
    out: dict[str, list[float]] = {k: [] for k in ("gi", "gg", "ri", "rg")}

    def record() -> None:
        out["gi"].append(float(np.mean(prob.f(x) - f_star)))
        out["gg"].append(float(prob.f(gd) - f_star))
        out["ri"].append(float(np.mean(np.sum(prob.grad(x) ** 2, axis=-1))))
        out["rg"].append(float(np.sum(prob.grad(gd) ** 2)))

    for k in range(iters + 1):
        if k in rec:
            record()
        if k == iters:
            break
        coords = np.stack([sk.sample(r, 1).coords[0] for r in rngs])  # (R, n, q)
        new = np.zeros_like(x)
        for i, (a, y) in enumerate(zip(prob.A, prob.y, strict=True)):
            S = coords[:, i, :]                                   # (R, q)
            z = sk.scale * np.take_along_axis(x, S, axis=1)       # C_i x on S_i
            aS = a[:, S].transpose(1, 0, 2)                       # (R, m, q)
            t = np.einsum("rmq,rq->rm", aS, z)
            s = -y / (1 + np.exp(t * y))
            grad_S = np.einsum("rm,rmq->rq", s, aS) / a.shape[0] + prob.lam * z
            z = z - gamma * sk.scale * grad_S                     # z − γ C_i ∇f_i(z) on S_i
            np.put_along_axis(new, S, z / prob.n, axis=1)         # (1/n) Σ_i z_i, blocks disjoint
        x = new
        gd = gd - gamma * prob.grad(gd)
    return LogisticRun(rec, np.array(out["gi"]), np.array(out["gg"]), np.array(out["ri"]), np.array(out["rg"]))
