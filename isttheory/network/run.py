"""The ``network`` command's experiment (issue 18): predicted against measured plateaus over step sizes.

``train="last"``: IST on the last layer from ``W₂ = argmin F`` (``W₁`` at its random initialisation), model
``"exact"`` (:func:`~isttheory.network.predict.predict_plateau` on the exact quadratic), plus the exact bridge
on the one-output sub-problem of output 0 (:func:`bridge_summary`). ``train="all"``: GD on both layers for
``pretrain_rounds`` steps to ``w*``, the Gauss–Newton local quadratic there, IST on both layers from ``w*``,
model ``"local-quadratic"`` (an approximation). The result is the JSON of ``isttheory network --json``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import ISTError, ParameterError
from ..resources import small_blas
from .bridge import compare_exact, compare_iterates, last_layer_problem
from .data import network_data
from .local_model import LocalModel, local_quadratic, trained_point
from .model import TwoLayerNet, check_activation, init_network
from .predict import (
    GammaTheory,
    LastLayerTheory,
    LocalTheory,
    last_layer_optimum,
    measure_plateau,
    measured_bias,
    output_data,
    output_net,
    predict_at,
    tail_rounds,
)
from .train import NetworkRun, check_train, train_ist

BRIDGE_ROUNDS = 20
"""Rounds of the bridge checks (iterates: 2 runs; Monte Carlo: the command's runs, at least 20)."""


def _finite(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def bridge_summary(data: Any, net: TwoLayerNet, gamma: float, local_steps: int, runs: int, seed: int,
                   theory: LastLayerTheory | None = None, precond: bool = False) -> dict[str, Any]:
    """The exact bridge at ``gamma`` on output 0's sub-problem (``d = hidden``): the iterates against ``simulate``
    and the Monte Carlo mean against ``ExactDynamics``; a ``reason`` and nulls when a check cannot run.
    ``theory``: the :class:`LastLayerTheory` of ``net`` (its output-0 problem and compiled moments reused)."""
    d0, n0 = output_data(data, 0), output_net(net, 0)
    out: dict[str, Any] = {"max_abs_diff": None, "mc_vs_exact_z": None, "mc_threshold": None, "passed": None,
                           "gamma": float(gamma), "rounds": BRIDGE_ROUNDS,
                           "sub_problem": f"output 0 of {data.outputs} (the quadratic separates over outputs)",
                           "reason": ""}
    try:
        prob = last_layer_problem(d0, n0) if theory is None else theory.moments.problems[0]
        dyn = None if theory is None else theory.dynamics(gamma).dyn[0]
        it = compare_iterates(d0, n0, gamma, BRIDGE_ROUNDS, local_steps, runs=2, seed=seed, problem=prob,
                              precond=precond)
        out["max_abs_diff"] = it.max_abs_diff
        with small_blas(net.hidden):
            mc = compare_exact(d0, n0, gamma, BRIDGE_ROUNDS, runs=max(runs, 20), seed=seed, local_steps=local_steps,
                               problem=prob, dynamics=dyn, precond=precond)
        out.update(mc_vs_exact_z=_finite(mc.max_z), mc_threshold=mc.threshold, passed=bool(it.passed and mc.passed))
    except ISTError as exc:
        out["reason"] = str(exc)
    return out


def network_experiment(*, data: str = "digits", hidden: int = 256, clients: int = 8, split: str = "iid",
                       train: str = "last", gammas: Sequence[float] = (0.1,), local_steps: int = 1,
                       rounds: int = 500, runs: int = 20, seed: int = 0, activation: str = "relu",
                       rows: int | None = None, pretrain_rounds: int = 2000, out: str | None = None,
                       precond: bool = False) -> dict[str, Any]:
    """Run the experiment (module docstring) and return the command's JSON document.

    The theory of each step size (limit and exact curve) runs in a worker thread while the
    network trains in this one: the two are independent and deterministic, so the result does not depend on
    the overlap (NumPy and BLAS release the GIL in the heavy parts). ``precond``: deal with the preconditioned
    Perm-1 (23) instead of the release code's Perm-q (``train="last"``, ``hidden = clients``)."""
    t0 = time.perf_counter()
    tr = check_train(train)
    act = check_activation(activation)
    nd = network_data(data, n=clients, split=split, seed=seed, rows=rows)
    net = init_network(nd, hidden, act, seed=seed)
    settings: dict[str, Any] = {"data": data, "hidden": hidden, "clients": clients, "split": split, "train": tr,
                                "activation": act, "loss": "squared", "local_steps": local_steps,
                                "rounds": rounds, "runs": runs, "seed": seed, "rows": rows,
                                "gammas": [float(g) for g in gammas],
                                "deal": "precond-perm (23)" if precond else "perm (7), as the release code"}
    if precond and tr != "last":
        raise ParameterError("the preconditioned deal (23) is built for train = last (the exact quadratic's diagonals)")
    local: LocalModel | None = None
    theory: LastLayerTheory | LocalTheory | None = None
    if tr == "last":
        start, f_ref = last_layer_optimum(nd, net)
        theory = LastLayerTheory(nd, start, local_steps, precond)
        settings["reference"] = "min F over W2 (W1 fixed at its initialisation); IST starts there"
        model = "exact"
    else:
        start, gd_step = trained_point(nd, net, pretrain_rounds)
        local = local_quadratic(nd, start)
        theory = LocalTheory(nd, local)
        f_ref = local.loss_at_star
        settings.update(reference=f"F(w*), w* after {pretrain_rounds} GD steps of size {gd_step:.4g}; IST starts "
                        "there", pretrain_rounds=pretrain_rounds, grad_norm_at_w_star=local.grad_norm,
                        hessian="gauss-newton")
        model = "local-quadratic"
    K = int(rounds)
    tail = tail_rounds(K)
    settings["plateau_rounds"] = [int(tail[0]), K]
    record = np.union1d(tail, np.unique(np.linspace(0, K, 101).astype(np.int64)))
    rows_out: list[dict[str, Any]] = []
    curves: list[dict[str, Any]] = []
    # one BLAS thread while the theory (worker thread) and the training (this thread) overlap; the default threads
    # again once the last training is done and only the theory may be left
    limiter = threadpool_limits(limits=1, user_api="blas")
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            jobs = [pool.submit(predict_at, nd, start, g, K, tail, local_steps, local, theory) for g in gammas]
            bridge = (bridge_summary(nd, start, gammas[0], local_steps, runs, seed, theory, precond)
                      if isinstance(theory, LastLayerTheory) else None)
            runs_done = []
            for g in gammas:
                runs_done.append(train_ist(nd, start, g, K, loss="squared", train=tr, local_steps=local_steps,
                                           runs=runs, seed=seed, record=record,
                                           scale_table=theory.table if isinstance(theory, LastLayerTheory) else None))
            limiter.restore_original_limits()
            for g, job, run in zip(gammas, jobs, runs_done, strict=True):
                th = job.result()
                rows_out.append(_row(th, run, f_ref, start))
                curves.append({"gamma": float(g), "iters": run.iters, "measured": run.loss.mean(axis=1) - f_ref,
                               "predicted": th.plateau.plateau,
                               "exact_iters": None if th.exact_tail is None else tail, "exact": th.exact_tail})
    finally:
        limiter.restore_original_limits()
    if out is not None:
        from .figures import curve_figure, plateau_figure, save

        folder = Path(out)
        save(plateau_figure(rows_out, model), folder / "plateau.png")
        save(curve_figure(curves, model), folder / "loss_curve.png")
    return {"settings": settings, "bridge": bridge, "gammas": rows_out, "seconds": time.perf_counter() - t0}


def _row(th: GammaTheory, run: NetworkRun, f_ref: float, start: TwoLayerNet) -> dict[str, Any]:
    """One ``gammas`` entry of the JSON: predicted against measured, with the exact value at the measured rounds,
    the region (converges in mean square?) and the bias ``‖x^∞ − x*‖``."""
    pred, exact_tail = th.plateau, th.exact_tail
    note = pred.note
    if run.diverged:
        meas, sem = None, None
        at = run.settings["diverged_at"]
        what = f"diverged at round {at}" if at is not None else "loss became non-finite"
        note = (note + "; " if note else "") + f"the network's {what}"
    else:
        mp = measure_plateau(run, f_ref)
        meas, sem = mp.plateau, _finite(mp.sem)
    z = abs(pred.plateau - meas) / sem if pred.plateau is not None and meas is not None and sem else None
    at_rounds = None if exact_tail is None else float(exact_tail.mean())
    z_rounds = abs(at_rounds - meas) / sem if at_rounds is not None and meas is not None and sem else None
    return {"gamma": pred.gamma, "predicted_plateau": pred.plateau, "measured_plateau": meas, "sem": sem,
            "model": pred.model, "z": z, "predicted_at_plateau_rounds": at_rounds, "z_at_plateau_rounds": z_rounds,
            "ms_rate": th.ms_rate, "predicted_converges": None if th.ms_rate is None else bool(th.ms_rate < 1.0),
            "measured_bounded": not run.diverged,
            "thm2_plateau": th.thm2_plateau,
            "predicted_bias": th.bias_limit, "predicted_bias_at_rounds": th.bias_at_rounds,
            "measured_bias": None if run.diverged else _finite(measured_bias(run, start)),
            "note": note}
