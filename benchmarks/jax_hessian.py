"""JAX autodiff against the exact NumPy formulas of the local quadratic model (issue 18).

:mod:`isttheory.network.local_model` builds, at a trained point ``w*``, the Gauss–Newton matrices
``L_i = J_iᵀJ_i/m_i`` and gradients ``∇ℓ_i(w*)`` of ``y = W₂σ(W₁x)`` (squared loss) with exact NumPy formulas.
This script computes the same quantities with JAX (float64) and times them:

* ``hessian``: the full per-client Hessian ``∇²ℓ_i`` by ``jax.hessian`` of the client loss as a function of the
  flattened parameters (:func:`~isttheory.network.local_model.to_params` order);
* ``GN fwd`` / ``GN rev``: ``J_iᵀ diag(1/m_i) J_i`` with ``J_i`` by ``jax.jacfwd`` / ``jax.jacrev`` of the outputs;
* ``grad``: ``jax.grad`` of the client losses;

each jitted and vmapped over clients; the first call (trace + XLA compile + run) and the steady-state median
are reported against NumPy :func:`~isttheory.network.local_model.local_quadratic` (``L_i`` and ``b_i``).

Agreement: JAX Gauss–Newton against NumPy ``L_i`` and JAX gradients against NumPy ``client_gradients``
(max abs difference over max abs entry); a central finite-difference check of JAX's Hessian-vector products
against NumPy gradients; and ``‖∇²ℓ_i − L_i‖_F / ‖L_i‖_F`` at the trained point: the residual curvature the
Gauss–Newton model drops. The networks use tanh: the loss is smooth, so the finite-difference check means
something (with ReLU a step of 1e-5 crosses kinks and the check reported relative errors of 1e3).

JAX is **not** a dependency of isttheory: nothing imports this script, and without JAX it prints one line and
exits 0. Run (in an environment with ``pip install "jax[cpu]"``):

    python benchmarks/jax_hessian.py [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from isttheory.network.data import network_data  # noqa: E402
from isttheory.network.local_model import (  # noqa: E402
    client_gradients,
    from_params,
    local_quadratic,
    to_params,
    trained_point,
)
from isttheory.network.model import init_network  # noqa: E402

CASES = [("diabetes", 16, 4), ("digits", 16, 8), ("digits", 32, 8)]
QUICK_CASES = [("diabetes", 4, 2)]


def _timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(first call, median of ``repeats`` further calls), seconds."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times)


def jax_functions(jax, jnp, h: int, p: int, c: int, activation: str) -> dict[str, Callable]:
    """Fresh jitted functions (so each case's first call includes its own compile), vmapped over clients:
    arguments ``(w (P,), X (n, M, p), Y (n, M, c), weights (n, M))``."""
    sigma = jax.nn.relu if activation == "relu" else jnp.tanh  # jax.nn.relu: derivative 0 at 0, as NumPy's

    def outputs(w, X):
        blocks = w.reshape(h, p + c)
        return sigma(X @ blocks[:, :p].T) @ blocks[:, p:]                    # (M, c)

    def loss(w, X, Y, wt):
        r = outputs(w, X) - Y
        return 0.5 * jnp.sum(wt[:, None] * r * r)

    def gn(jac):
        def one(w, X, Y, wt):
            J = jac(outputs)(w, X)                                            # (M, c, P)
            return jnp.einsum("mkP,m,mkQ->PQ", J, wt, J)
        return one

    per_client = (None, 0, 0, 0)
    return {
        "hessian": jax.jit(jax.vmap(jax.hessian(loss), per_client)),
        "GN fwd": jax.jit(jax.vmap(gn(jax.jacfwd), per_client)),
        "GN rev": jax.jit(jax.vmap(gn(jax.jacrev), per_client)),
        "grad": jax.jit(jax.vmap(jax.grad(loss), per_client)),
        "hvp": jax.jit(jax.vmap(lambda w, X, Y, wt, v: jax.jvp(lambda u: jax.grad(loss)(u, X, Y, wt), (w,), (v,))[1],
                                (None, 0, 0, 0, None))),
    }


def case(jax, jnp, name: str, hidden: int, n: int, repeats: int, rounds: int, numpy_repeats: int) -> dict:
    data = network_data(name, n)
    net, _ = trained_point(data, init_network(data, hidden, "tanh"), rounds=rounds)
    w = to_params(net)
    P = w.size
    args = (jnp.asarray(w), jnp.asarray(data.X), jnp.asarray(data.Y), jnp.asarray(data.weights))
    fns = jax_functions(jax, jnp, net.hidden, net.inputs, net.outputs, net.activation)
    row: dict = {"case": f"{name} h={hidden} n={n}", "P": P, "M": data.X.shape[1]}
    out = {}
    for key in ("hessian", "GN fwd", "GN rev", "grad"):
        f = fns[key]
        row[key] = _timed(lambda f=f: f(*args).block_until_ready(), repeats)
        out[key] = np.asarray(f(*args))
    model = local_quadratic(data, net)
    row["numpy"] = _timed(lambda: local_quadratic(data, net), numpy_repeats)
    L = model.problem.L                                                       # (n, P, P), symmetrised
    g = client_gradients(data, net)
    scale = float(np.abs(L).max())
    row["gn_fwd_err"] = float(np.abs(out["GN fwd"] - L).max()) / scale
    row["gn_rev_err"] = float(np.abs(out["GN rev"] - L).max()) / scale
    row["grad_err"] = float(np.abs(out["grad"] - g).max()) / float(np.abs(g).max())
    # JAX Hessian against central differences of the NumPy gradient, along random unit directions
    rng = np.random.default_rng(0)
    fd = 0.0
    for _ in range(2):
        v = rng.standard_normal(P)
        v /= np.linalg.norm(v)
        eps = 1e-5
        gp = client_gradients(data, from_params(w + eps * v, net))
        gm = client_gradients(data, from_params(w - eps * v, net))
        Hv = out["hessian"] @ v
        fd = max(fd, float(np.abs(Hv - (gp - gm) / (2 * eps)).max() / np.abs(Hv).max()))
    row["hess_fd_err"] = fd
    H = out["hessian"]
    gaps = np.linalg.norm(H - L, axis=(1, 2)) / np.linalg.norm(L, axis=(1, 2))
    row["gap_max"] = float(gaps.max())
    row["gap_mean_client"] = float(gaps.mean())
    Hbar, Lbar = H.mean(axis=0), L.mean(axis=0)
    row["gap_bar"] = float(np.linalg.norm(Hbar - Lbar) / np.linalg.norm(Lbar))
    row["gap_bar_spec"] = float(np.linalg.norm(Hbar - Lbar, 2) / np.linalg.norm(Lbar, 2))
    row["lam_min_Hbar"] = float(np.linalg.eigvalsh(Hbar)[0])
    row["grad_norm"] = model.grad_norm
    row["loss"] = model.loss_at_star
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2000, help="gradient-descent steps to the trained point")
    ap.add_argument("--numpy-repeats", type=int, default=None,
                    help="repeats of NumPy local_quadratic (default --repeats; its 3-operand einsum is slow)")
    ap.add_argument("--case", action="append", default=None, metavar="DATA,HIDDEN,N",
                    help="a case to run (repeatable); default " + " ".join(f"{d},{h},{n}" for d, h, n in CASES))
    ap.add_argument("--quick", action="store_true", help="one tiny case, 2 repeats, 200 rounds (smoke test)")
    a = ap.parse_args(argv)
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print("jax is not installed: skipping benchmarks/jax_hessian.py (pip install 'jax[cpu]' to run it)")
        return 0
    jax.config.update("jax_enable_x64", True)
    cases, repeats, rounds = (QUICK_CASES, 2, 200) if a.quick else (CASES, a.repeats, a.rounds)
    if a.case:
        cases = [(d, int(h), int(n)) for d, h, n in (c.split(",") for c in a.case)]
    np_repeats = repeats if a.numpy_repeats is None else a.numpy_repeats
    print(f"jax {jax.__version__}, numpy {np.__version__}, float64; first call (incl. jit compile) / "
          f"steady median of {repeats} (NumPy: {np_repeats}), seconds", flush=True)
    head = f"{'case':<22}{'P':>6}  {'hessian':>15}  {'GN fwd':>15}  {'GN rev':>15}  {'grad':>15}  {'NumPy L,b':>15}"
    print(head, flush=True)
    rows = []
    for c in cases:
        r = case(jax, jnp, *c, repeats=repeats, rounds=rounds, numpy_repeats=np_repeats)
        rows.append(r)
        cells = "  ".join(f"{r[k][0]:6.3f} / {r[k][1]:6.4f}" for k in ("hessian", "GN fwd", "GN rev", "grad", "numpy"))
        print(f"{r['case']:<22}{r['P']:>6}  {cells}", flush=True)
    print()
    print(f"{'case':<22}{'GN fwd err':>11}{'GN rev err':>11}{'grad err':>10}{'Hv FD err':>10}"
          f"{'|H-GN|/|GN| client max/mean':>30}{'mean H':>8}{'(spec)':>8}{'lam_min(H)':>12}{'|grad F|':>10}")
    for r in rows:
        print(f"{r['case']:<22}{r['gn_fwd_err']:11.1e}{r['gn_rev_err']:11.1e}{r['grad_err']:10.1e}"
              f"{r['hess_fd_err']:10.1e}{r['gap_max']:19.3f} / {r['gap_mean_client']:.3f}{r['gap_bar']:8.3f}"
              f"{r['gap_bar_spec']:8.3f}{r['lam_min_Hbar']:12.2e}{r['grad_norm']:10.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
