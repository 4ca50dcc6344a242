"""``isttheory constants`` and ``isttheory exact``, run as a user runs them: the installed
console script in a subprocess, every command launched once and concurrently by a
module-scoped fixture (the style of ``tests/test_cli.py``).

Values are checked against closed forms computed here, independently of the library
where the mathematics allows it:

* preconditioned Perm-1 (23) on a heterogeneous ``n = d`` problem: ``B̄ = I`` for every
  outcome, so ``θ* = 1``, ``W̄ = L̄``, ``x^∞ = (1/(n√n)) Σ_i D_i^{-1/2} b_i`` and the
  iteration ``x⁺ = (1−γ)x + γc`` has a closed-form mean and second moment;
* Remark 1's instance (18): ``E[B̄] = n·Diag(L)`` and ``W̄`` is indefinite;
* the identity sketch (Theorem 1's identity example): ``E[B̄] = L̄``, ``W̄ = L̄²``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from isttheory import generators
from isttheory.io import write_problem
from tests.cli_harness import ISTTHEORY, assert_one_line_error, loads_strict, ok, ok_json, run_concurrently

pytestmark = pytest.mark.skipif(ISTTHEORY is None, reason="console script 'isttheory' is not installed")


X0_STORED = np.array([0.25, -1.0, 2.0, 0.5])

# The problems, built here too so the tests can compute closed forms from them.
PRECOND = generators.heterogeneous(4, 4, 0.8, seed=0)      # n = d = 4, for precond-perm
REMARK1 = generators.remark1()                              # (18): W̄ not PSD under Perm-1
INTERP = generators.interpolation(4, 8, 0.5, seed=1)        # b_i = 0, Perm-2
SMALL = generators.heterogeneous(2, 4, 0.5, seed=1)         # n = 2, d = 4, Perm-2

CONSTANTS_REQUIRED = ("expected_B", "expected_Cb", "W", "W_psd", "second_moment_BLB", "theta", "rate", "x_star",
                      "x_inf", "h", "h_norm2_L", "sigma2", "step_paper", "gamma_opt", "contraction_opt",
                      "solver_status", "theta_eigen", "theta_sdp", "theta_certificate", "sigma2_constant",
                      "factor_paper", "solver")
EXACT_REQUIRED = ("dist2_L", "grad2_Linv", "f", "limit_dist2_L", "limit_grad2_Linv", "ms_rate", "bound_thm1",
                  "bound_thm2", "tightness")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Problem files, written once for the module."""
    d = tmp_path_factory.mktemp("cli_constants")
    write_problem(d / "precond.json", PRECOND)
    write_problem(d / "remark1.json", REMARK1)
    write_problem(d / "interp.json", INTERP)
    write_problem(d / "small.json", SMALL)
    write_problem(d / "small_x0.json", SMALL, X0_STORED)
    write_problem(d / "odd.json", generators.heterogeneous(2, 3, 0.5, seed=2))  # d not a multiple of n
    (d / "malformed.json").write_text('{"L": [[[1.0, 0.0], [0.0, 1.0]]],, }')
    return d


# Monte Carlo cross-validation of `exact --form ist --local-steps 2` (see test_exact_ist_local_steps_matches_mc)
MC_GAMMA, MC_ITERS, MC_RUNS = "0.05", "5", "4000"
IST2 = ("--sketch", "perm", "--gamma", MC_GAMMA, "--iters", MC_ITERS, "--form", "ist", "--local-steps", "2")

PRE_GAMMA, PRE_ITERS = 0.5, 100
PRE_X0_ITERS = 3
INTERP_GAMMA, INTERP_ITERS = 0.01, 50
ID_GAMMA = 0.1
SMALL_GAMMA = 0.05
E_SMALL = ("--sketch", "perm", "--gamma", str(SMALL_GAMMA))

# Every command the tests run, by name; the ``results`` fixture runs them concurrently.
COMMANDS: dict[str, tuple[str, ...]] = {
    # ---- constants
    "c-precond": ("constants", "precond.json", "--sketch", "precond-perm", "--json"),
    "c-remark1": ("constants", "remark1.json", "--sketch", "perm", "--json"),
    "c-remark1-human": ("constants", "remark1.json", "--sketch", "perm"),
    "c-perm-human": ("constants", "small.json", "--sketch", "perm"),
    "c-identity": ("constants", "small.json", "--sketch", "identity", "--gamma", str(ID_GAMMA), "--json"),
    "c-perm-sgd": ("constants", "small.json", "--sketch", "perm", "--gamma", str(SMALL_GAMMA), "--json"),
    "c-perm-ist": ("constants", "small.json", "--sketch", "perm", "--form", "ist", "--gamma", str(SMALL_GAMMA),
                   "--json"),
    "c-scaled-sgd": ("constants", "small.json", "--sketch", "scaled-perm", "--json"),
    "c-scaled-ist": ("constants", "small.json", "--sketch", "scaled-perm", "--form", "ist", "--gamma", "0.3",
                     "--json"),
    "c-interp": ("constants", "interp.json", "--sketch", "perm", "--json"),
    # ---- exact
    "e-precond": ("exact", "precond.json", "--sketch", "precond-perm", "--gamma", str(PRE_GAMMA), "--iters",
                  str(PRE_ITERS), "--json"),
    "e-precond-x0": ("exact", "precond.json", "--sketch", "precond-perm", "--gamma", str(PRE_GAMMA), "--iters",
                     str(PRE_X0_ITERS), "--x0", "0", "--json"),
    "e-interp": ("exact", "interp.json", "--sketch", "perm", "--gamma", str(INTERP_GAMMA), "--iters",
                 str(INTERP_ITERS), "--json"),
    "e-diverge-json": ("exact", "interp.json", "--sketch", "perm", "--gamma", "1", "--iters", "50", "--json"),
    "e-diverge-human": ("exact", "interp.json", "--sketch", "perm", "--gamma", "1", "--iters", "50"),
    "e-ist2": ("exact", "small.json", *IST2, "--json"),
    "e-sgd-same-gamma": ("exact", "small.json", *IST2[:6], "--json"),
    "mc-ist2": ("simulate", "small.json", *IST2, "--runs", MC_RUNS, "--seed", "0", "--json"),
    "e-x0-file": ("exact", "small_x0.json", *E_SMALL, "--iters", "0", "--json"),
    "e-x0-list": ("exact", "small_x0.json", *E_SMALL, "--iters", "0", "--x0", "1,2,3,-4", "--json"),
    "e-iters0-thm2": ("exact", "precond.json", "--sketch", "precond-perm", "--gamma", "0.5", "--iters", "0",
                      "--json"),
    "e-iters0-thm1": ("exact", "interp.json", "--sketch", "perm", "--gamma", str(INTERP_GAMMA), "--iters", "0",
                      "--json"),
    "e-extreme-x0": ("exact", "precond.json", "--sketch", "precond-perm", "--gamma", "0.5", "--iters", "10",
                     "--x0", "1e200", "--json"),
}

C_SMALL = ("constants", "small.json", "--sketch", "perm")
E_BASE = ("exact", "small.json", "--sketch", "perm", "--gamma", "0.1", "--iters", "3")
E_NO_GAMMA = ("exact", "small.json", "--sketch", "perm", "--iters", "3")

# Bad input: each must exit 2 with one line "isttheory: error: ..." on stderr.
BAD_INPUT: dict[str, tuple[str, ...]] = {
    "constants-unknown-sketch": ("constants", "small.json", "--sketch", "no-such-sketch"),
    "constants-perm-d-not-multiple-of-n": ("constants", "odd.json", "--sketch", "perm"),
    "constants-gamma-0": (*C_SMALL, "--gamma", "0"),
    "constants-gamma-negative": (*C_SMALL, "--gamma", "-1"),
    "constants-gamma-nan": (*C_SMALL, "--gamma", "nan"),
    "constants-gamma-inf": (*C_SMALL, "--gamma", "inf"),
    "constants-malformed-json": ("constants", "malformed.json", "--sketch", "perm"),
    "constants-missing-sketch": ("constants", "small.json"),
    "constants-bad-form": (*C_SMALL, "--form", "nope"),
    "exact-unknown-sketch": ("exact", "small.json", "--sketch", "no-such-sketch", *E_BASE[4:]),
    "exact-perm-d-not-multiple-of-n": ("exact", "odd.json", *E_BASE[2:]),
    "exact-precond-perm-n-ne-d": ("exact", "small.json", "--sketch", "precond-perm", *E_BASE[4:]),
    "exact-gamma-0": (*E_NO_GAMMA, "--gamma", "0"),
    "exact-gamma-negative": (*E_NO_GAMMA, "--gamma", "-0.5"),
    "exact-gamma-nan": (*E_NO_GAMMA, "--gamma", "nan"),
    "exact-gamma-inf": (*E_NO_GAMMA, "--gamma", "inf"),
    "exact-iters-negative": ("exact", "small.json", "--sketch", "perm", "--gamma", "0.1", "--iters", "-1"),
    "exact-malformed-json": ("exact", "malformed.json", *E_BASE[2:]),
    "exact-local-steps-with-sgd": (*E_BASE, "--form", "sgd", "--local-steps", "2"),
    "exact-local-steps-default-form": (*E_BASE, "--local-steps", "2"),
    "exact-local-steps-0": (*E_BASE, "--form", "ist", "--local-steps", "0"),
    "exact-x0-wrong-length": (*E_BASE, "--x0", "1,2"),
    "exact-missing-gamma": E_NO_GAMMA,
}


@pytest.fixture(scope="module")
def results(files):
    """Run every command of COMMANDS and BAD_INPUT once, concurrently; name -> CompletedProcess."""
    jobs = {**COMMANDS, **{"bad:" + k: v for k, v in BAD_INPUT.items()}}
    slow_first = sorted(jobs, key=lambda k: (k != "e-interp", k.startswith("bad:")))
    return run_concurrently(jobs, slow_first, lambda k: files)


def norm2(v, M) -> float:
    v = np.asarray(v, dtype=float)
    return float(v @ np.asarray(M) @ v)


# --------------------------------------------------------------------------- closed forms for precond-perm

def precond_c_outcomes(p) -> np.ndarray:
    """``c = (C̃b)‾`` for every outcome of preconditioned Perm-1 (23), enumerated (n! permutations).

    ``C̃_i = √n (L_i)_{jj}^{-1/2} e_j e_jᵀ`` with ``j = π(i)``, so ``c = (1/√n) Σ_i (L_i)_{jj}^{-1/2} (b_i)_j e_j``
    and ``B̄ = (1/n) Σ_i C̃_i L_i C̃_i = Σ_i e_{π(i)} e_{π(i)}ᵀ = I`` for every π."""
    n = p.n
    out = []
    for pi in itertools.permutations(range(n)):
        c = np.zeros(p.d)
        for i, j in enumerate(pi):
            c[j] += p.b[i, j] / math.sqrt(p.L[i, j, j]) / math.sqrt(n)
        out.append(c)
    return np.array(out)


def precond_closed_form(p, gamma: float, x0: np.ndarray, K: int) -> dict[str, object]:
    """Exact moments of ``x⁺ = (1−γ)x + γc`` (B̄ = I): mean, ``E‖x^k − x*‖²_{L̄}`` and ``E f(x^k)``, k = 0..K."""
    cs = precond_c_outcomes(p)
    x_inf = cs.mean(axis=0)
    sigma2 = float(np.mean([norm2(c - x_inf, p.L_bar) for c in cs]))  # E‖c − Ec‖²_{L̄} = σ² (g(x) = x − c)
    q = (1 - gamma) ** 2
    dist, f = [], []
    for k in range(K + 1):
        m = (1 - gamma) ** k * x0 + (1 - (1 - gamma) ** k) * x_inf
        var = gamma**2 * sigma2 * (1 - q**k) / (1 - q)  # tr(L̄ Cov x^k)
        dist.append(norm2(m - p.x_star, p.L_bar) + var)
        f.append(0.5 * (norm2(m, p.L_bar) + var) - p.b_bar @ m)
    return {"x_inf": x_inf, "sigma2": sigma2, "dist2_L": dist, "f": f,
            "limit": norm2(p.x_star - x_inf, p.L_bar) + gamma * sigma2 / (2 - gamma)}


# --------------------------------------------------------------------------- constants: schema

@pytest.mark.parametrize("name", ["c-precond", "c-remark1", "c-identity", "c-perm-ist", "c-scaled-ist",
                                  "c-interp"])
def test_constants_json_has_every_key(results, name):
    out = ok_json(results, name)  # rejects NaN / Infinity
    missing = [k for k in CONSTANTS_REQUIRED if k not in out]
    assert not missing, missing
    assert isinstance(out["solver_status"], dict) and "theta" in out["solver_status"]
    assert isinstance(out["W_psd"], bool) and isinstance(out["sigma2_constant"], bool)
    d = len(out["x_inf"])
    for key in ("expected_B", "W", "second_moment_BLB"):
        assert np.asarray(out[key]).shape == (d, d), key
    assert np.asarray(out["expected_Cb"]).shape == (d,)


def test_constants_gamma_option_adds_contraction_at_gamma(results):
    assert "contraction_at_gamma" not in ok_json(results, "c-precond")
    out = ok_json(results, "c-identity")
    assert out["gamma"] == ID_GAMMA
    assert isinstance(out["contraction_at_gamma"], float)


# --------------------------------------------------------------------------- constants: preconditioned Perm-1

def test_constants_precond_perm_closed_forms(results):
    out = ok_json(results, "c-precond")
    p = PRECOND
    assert out["sketch"] == "precond-perm" and out["form"] == "sgd"
    assert out["solver_status"]["theta"] == "optimal"
    assert out["W_psd"] is True and out["theta_certificate"] is None
    np.testing.assert_allclose(out["expected_B"], np.eye(4), atol=1e-12)
    np.testing.assert_allclose(out["W"], p.L_bar, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out["second_moment_BLB"], p.L_bar, rtol=1e-10, atol=1e-12)  # B̄ = I surely
    assert out["theta"] == pytest.approx(1.0, rel=1e-9)
    assert out["theta_sdp"] == pytest.approx(1.0, rel=1e-6)
    assert out["rate"] == pytest.approx(1.0, rel=1e-9)
    assert out["step_paper"] == pytest.approx(1.0, rel=1e-9)
    assert out["gamma_opt"] == pytest.approx(1.0, abs=1e-6)
    assert out["contraction_opt"] == pytest.approx(0.0, abs=1e-6)
    assert out["sigma2_constant"] is True


def test_constants_precond_perm_fixed_point_bias_and_sigma2(results):
    out = ok_json(results, "c-precond")
    p, n = PRECOND, PRECOND.n
    x_inf = (p.b / np.sqrt(p.D)).sum(axis=0) / (n * math.sqrt(n))  # (1/(n√n)) Σ_i D_i^{-1/2} b_i
    np.testing.assert_allclose(out["x_inf"], x_inf, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(out["expected_Cb"], x_inf, rtol=1e-10, atol=1e-14)  # E[B̄] = I
    x_star = np.linalg.solve(p.L_bar, p.b_bar)
    np.testing.assert_allclose(out["x_star"], x_star, rtol=1e-10, atol=1e-14)
    h = np.asarray(out["h"])
    np.testing.assert_allclose(h, x_star - x_inf, rtol=1e-9, atol=1e-13)
    assert np.abs(h).max() > 1e-3  # heterogeneous: a genuine bias
    assert out["h_norm2_L"] == pytest.approx(norm2(h, p.L_bar), rel=1e-12)
    sigma2 = precond_closed_form(p, PRE_GAMMA, np.ones(4), 0)["sigma2"]
    assert out["sigma2"] == pytest.approx(sigma2, rel=1e-9)


# --------------------------------------------------------------------------- constants: Remark 1

def test_constants_remark1_infeasible_with_certificate(results):
    out = ok_json(results, "c-remark1")
    L = REMARK1.L_bar
    EB = REMARK1.n * np.diag(np.diag(L))  # homogeneous Perm-1: E[B̄] = n Diag(L)
    np.testing.assert_allclose(out["expected_B"], EB, rtol=1e-12)
    W = np.asarray(out["W"])
    np.testing.assert_allclose(W, 0.5 * (L @ EB + EB @ L), rtol=1e-12)
    assert out["W_psd"] is False
    assert out["theta"] is None and out["step_paper"] is None
    assert out["solver_status"]["theta"] == "infeasible"
    v = np.asarray(out["theta_certificate"], dtype=float)
    assert v.shape == (2,) and np.linalg.norm(v) > 0.5
    assert v @ W @ v < -1e-6 * (v @ v) * np.abs(W).max()
    # so v certifies (14) infeasible for every θ ≥ 0
    Q = np.asarray(out["second_moment_BLB"])
    assert all(v @ (t * W - Q) @ v < 0 for t in (0.0, 1.0, 1e3, 1e9))


def test_constants_remark1_human_output(results):
    proc = ok(results, "c-remark1-human")
    assert "infeasible" in proc.stdout
    assert "certificate" in proc.stdout
    assert "W_psd" in proc.stdout


# --------------------------------------------------------------------------- constants: identity sketch

def test_constants_identity_example_of_theorem1(results):
    out = ok_json(results, "c-identity")
    L = SMALL.L_bar
    lam = np.linalg.eigvalsh(L)
    lo, hi = lam[0], lam[-1]
    np.testing.assert_allclose(out["expected_B"], L, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out["W"], L @ L, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out["second_moment_BLB"], L @ L @ L, rtol=1e-10, atol=1e-10)
    assert out["theta"] == pytest.approx(hi, rel=1e-9)  # θ* = λ_max(L̄)
    # rate = λ_min(L̄^{-1/2} W̄ L̄^{-1/2}) with W̄ = L̄², i.e. λ_min(L̄)
    assert out["rate"] == pytest.approx(lo, rel=1e-9)
    assert out["step_paper"] == pytest.approx(1 / hi, rel=1e-9)
    # deterministic GD: ρ(γ) = max_i (1 − γλ_i)², minimised at γ = 2/(λ_min + λ_max)
    assert out["gamma_opt"] == pytest.approx(2 / (lo + hi), rel=1e-6)
    assert out["contraction_opt"] == pytest.approx(((hi - lo) / (hi + lo)) ** 2, rel=1e-6)
    assert out["contraction_at_gamma"] == pytest.approx(float(np.max((1 - ID_GAMMA * lam) ** 2)), rel=1e-9)
    assert out["sigma2"] == pytest.approx(0.0, abs=1e-12) and out["sigma2_constant"] is True
    assert out["h_norm2_L"] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(out["x_inf"], out["x_star"], rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------------- constants: --form ist

def test_constants_ist_form_perm_equals_sgd_form(results):
    # Perm-q reconstructs perfectly (P̄ = I), so with one local step forms (2) and (6) coincide
    ist, sgd = ok_json(results, "c-perm-ist"), ok_json(results, "c-perm-sgd")
    assert ist["form"] == "ist" and sgd["form"] == "sgd"
    assert 0.0 <= ist["contraction_opt"] <= 1.0 and ist["gamma_opt"] > 0
    assert ist["contraction_opt"] == pytest.approx(sgd["contraction_opt"], rel=1e-9)
    assert ist["gamma_opt"] == pytest.approx(sgd["gamma_opt"], rel=1e-6)
    assert ist["contraction_at_gamma"] == pytest.approx(sgd["contraction_at_gamma"], rel=1e-9)
    # ρ(γ) = λ_max(L̄^{-1/2}(L̄ − 2γW̄ + γ²E[B̄L̄B̄])L̄^{-1/2}) from the reported W̄ and E[B̄L̄B̄]
    L, W, Q = SMALL.L_bar, np.asarray(sgd["W"]), np.asarray(sgd["second_moment_BLB"])
    M = L - 2 * SMALL_GAMMA * W + SMALL_GAMMA**2 * Q
    Li = np.linalg.inv(np.linalg.cholesky(L))
    rho = float(np.linalg.eigvalsh(Li @ M @ Li.T)[-1])
    assert sgd["contraction_at_gamma"] == pytest.approx(rho, rel=1e-8)
    assert sgd["contraction_opt"] <= rho + 1e-12


def test_constants_ist_form_scaled_perm(results):
    ist, sgd = ok_json(results, "c-scaled-ist"), ok_json(results, "c-scaled-sgd")
    assert ist["form"] == "ist" and ist["sketch"].startswith("scaled-perm")
    assert ist["solver_status"]["contraction"] == "optimal"
    assert 0.0 <= ist["contraction_opt"] <= 1.0 and ist["gamma_opt"] > 0
    assert ist["contraction_at_gamma"] >= ist["contraction_opt"] - 1e-9  # the optimum is a minimum
    # scaled-perm lacks perfect reconstruction: the merge (6) changes the contraction
    assert abs(ist["contraction_opt"] - sgd["contraction_opt"]) > 1e-3


# --------------------------------------------------------------------------- exact: schema

@pytest.mark.parametrize("name", ["e-precond", "e-interp", "e-diverge-json", "e-ist2"])
def test_exact_json_has_every_key(results, name):
    out = ok_json(results, name)  # rejects NaN / Infinity
    missing = [k for k in EXACT_REQUIRED if k not in out]
    assert not missing, missing
    assert set(out["tightness"]) >= {"thm1", "thm2", "mean_recursion"}


# --------------------------------------------------------------------------- exact: preconditioned Perm-1

def test_exact_precond_perm_limit_matches_constants(results):
    out, c = ok_json(results, "e-precond"), ok_json(results, "c-precond")
    g = PRE_GAMMA
    h = np.asarray(c["h"])
    expected = norm2(h, PRECOND.L_bar) + g * c["sigma2"] / (2 - g)  # ‖h‖²_L̄ + γσ²/(2−γ)
    assert out["limit_dist2_L"] == pytest.approx(expected, rel=1e-8)
    assert out["dist2_L"] == pytest.approx(expected, rel=1e-8)  # (1−γ)^{2K} = 4^{-100}: at the limit
    assert out["limit_grad2_Linv"] == pytest.approx(out["limit_dist2_L"], rel=1e-12)
    assert out["grad2_Linv"] == pytest.approx(out["dist2_L"], rel=1e-12)
    # and against the closed form computed here from the enumerated sketch
    cf = precond_closed_form(PRECOND, g, np.ones(4), PRE_ITERS)
    assert out["limit_dist2_L"] == pytest.approx(cf["limit"], rel=1e-8)
    assert out["f"] == pytest.approx(cf["f"][-1], rel=1e-8)


def test_exact_precond_perm_rates(results):
    out = ok_json(results, "e-precond")
    g = PRE_GAMMA
    assert out["ms_rate"] == pytest.approx((1 - g) ** 2, rel=1e-9)
    assert out["mean_rate"] == pytest.approx(1 - g, rel=1e-9)
    assert out["diverged_at"] is None


def test_exact_precond_perm_theorem2_bounds(results):
    out = ok_json(results, "e-precond")
    t2 = out["tightness"]["thm2"]
    cf = precond_closed_form(PRECOND, PRE_GAMMA, np.ones(4), PRE_ITERS)
    # left side of (30): (1/K) Σ_{k<K} E‖∇f(x^k)‖²_{L̄⁻¹} = (1/K) Σ_{k<K} E‖x^k − x*‖²_{L̄}
    lhs = float(np.mean(cf["dist2_L"][:PRE_ITERS]))
    assert t2["lhs"] == pytest.approx(lhs, rel=1e-9)
    assert t2["f0_minus_fK"] == pytest.approx(cf["f"][0] - cf["f"][-1], rel=1e-9)
    assert out["bound_thm2"] is not None and out["bound_thm2"] >= t2["lhs"]
    assert out["bound_thm2_corrected"] is not None and out["bound_thm2_corrected"] >= t2["lhs"]
    assert out["bound_thm2"] == t2["paper"] and out["bound_thm2_corrected"] == t2["corrected"]
    assert isinstance(t2["ratio_paper_printed_norm"], float) and t2["ratio_paper_printed_norm"] >= 1
    assert t2["ratio_paper"] == pytest.approx(out["bound_thm2"] / t2["lhs"], rel=1e-12)
    # not an interpolation problem: Theorem 1 does not apply
    assert out["bound_thm1"] is None and out["tightness"]["thm1"] is None
    mr = out["tightness"]["mean_recursion"]
    assert mr is not None and mr["max_abs_diff"] < 1e-12


def test_exact_precond_perm_transient_from_x0_option(results):
    # --x0 0 and K = 3: far from the limit, so the transient of the closed form is checked too
    out = ok_json(results, "e-precond-x0")
    cf = precond_closed_form(PRECOND, PRE_GAMMA, np.zeros(4), PRE_X0_ITERS)
    assert out["dist2_L"] == pytest.approx(cf["dist2_L"][-1], rel=1e-9)
    assert out["f"] == pytest.approx(cf["f"][-1], rel=1e-9)
    assert abs(out["dist2_L"] - cf["limit"]) > 1e-3
    # the override reaches the tightness computations: f(x⁰) = f(0) = 0
    assert out["tightness"]["thm2"]["f0_minus_fK"] == pytest.approx(-cf["f"][-1], rel=1e-9)
    expected_mean = (1 - (1 - PRE_GAMMA) ** PRE_X0_ITERS) * cf["x_inf"]
    np.testing.assert_allclose(out["tightness"]["mean_recursion"]["exact"], expected_mean, rtol=1e-10,
                               atol=1e-14)


# --------------------------------------------------------------------------- exact: Theorem 1 (interpolation)

def test_exact_interpolation_theorem1_bounds(results):
    out, c = ok_json(results, "e-interp"), ok_json(results, "c-interp")
    assert c["theta"] is not None and INTERP_GAMMA <= 1 / c["theta"]  # Theorem 1 applies
    assert out["bound_thm1"] >= out["dist2_L"] > 0
    t1 = out["tightness"]["thm1"]
    assert t1["ratio16"] >= 1 and t1["ratio15"] >= 1
    # (16): (1 − γλ_min(L̄^{-1/2}W̄L̄^{-1/2}))^K ‖x⁰ − x*‖²_L̄ with x* = 0, x⁰ = 1, the rate from `constants`
    x0 = np.ones(INTERP.d)
    bound = (1 - INTERP_GAMMA * c["rate"]) ** INTERP_ITERS * norm2(x0, INTERP.L_bar)
    assert out["bound_thm1"] == pytest.approx(bound, rel=1e-9)
    assert out["bound_thm2"] is None and out["tightness"]["thm2"] is None
    assert out["limit_dist2_L"] == pytest.approx(0.0, abs=1e-12)
    assert 0 < out["ms_rate"] < 1


# --------------------------------------------------------------------------- exact: divergence

def test_exact_divergent_step_json(results):
    out = ok_json(results, "e-diverge-json")  # exit 0, and no NaN / Infinity in the JSON
    assert out["ms_rate"] > 1
    assert out["limit_dist2_L"] is None and out["limit_grad2_Linv"] is None
    assert isinstance(out["diverged_at"], int) and 0 < out["diverged_at"] <= 50
    assert out["dist2_L"] is None  # no number at K once the moments blew up


def test_exact_divergent_step_human(results):
    proc = ok(results, "e-diverge-human")
    assert "diverges" in proc.stdout
    assert "nan" not in proc.stdout.lower()


# --------------------------------------------------------------------------- exact: Algorithm 1 with local steps

def test_exact_ist_local_steps_matches_mc(results):
    """Cross-validation of the exact moments with Monte Carlo (``simulate``, 4000 runs, seed 0).

    Method: the mean of R = 4000 i.i.d. runs is approximately normal (CLT), so
    ``|exact − MC mean| ≤ 4·sem`` fails for a correct implementation with probability
    ≈ 2Φ(−4) ≈ 6e-5 per comparison (two comparisons here, dist2_L and f at K; the seed is
    fixed, so the outcome is reproducible). The power check below shows that 4·sem does
    separate the answer from a nearby wrong one (the SGD form at the same γ)."""
    ex, mc = ok_json(results, "e-ist2"), ok_json(results, "mc-ist2")
    assert ex["form"] == "ist" and ex["local_steps"] == 2 and ex["iters"] == int(MC_ITERS)
    st = mc["settings"]
    assert st["form"] == "ist" and st["local_steps"] == 2 and st["runs"] == int(MC_RUNS) and not mc["diverged"]
    assert mc["iters"][-1] == int(MC_ITERS)
    assert math.isfinite(ex["dist2_L"]) and ex["dist2_L"] > 0
    for key in ("dist2_L", "f"):
        mean, sem = mc[key]["mean"][-1], mc[key]["sem"][-1]
        assert sem > 0
        assert abs(ex[key] - mean) <= 4 * sem, (key, ex[key], mean, sem)
    wrong = ok_json(results, "e-sgd-same-gamma")
    assert abs(wrong["dist2_L"] - mc["dist2_L"]["mean"][-1]) > 4 * mc["dist2_L"]["sem"][-1]


# --------------------------------------------------------------------------- exact: starting point

# (the default x⁰ = 1 is checked through the closed forms of test_exact_precond_perm_theorem2_bounds,
# a scalar --x0 through test_exact_precond_perm_transient_from_x0_option)
@pytest.mark.parametrize("name, x0", [("e-x0-file", X0_STORED), ("e-x0-list", np.array([1.0, 2.0, 3.0, -4.0]))])
def test_exact_x0_from_file_and_option(results, name, x0):
    out = ok_json(results, name)  # K = 0: the metrics at the starting point
    assert out["iters"] == 0
    assert out["dist2_L"] == pytest.approx(norm2(x0 - SMALL.x_star, SMALL.L_bar), rel=1e-10)
    assert out["f"] == pytest.approx(float(SMALL.f(x0)), rel=1e-10, abs=1e-14)


# --------------------------------------------------------------------------- exact: edge cases (were bugs)

@pytest.mark.parametrize("name", ["e-iters0-thm2", "e-iters0-thm1"])
def test_exact_iters_zero_where_a_theorem_applies(results, name):
    proc = results[name]
    assert "Traceback" not in proc.stderr, proc.stderr[-1500:]
    assert proc.returncode == 0
    out = loads_strict(proc.stdout)
    p = PRECOND if name == "e-iters0-thm2" else INTERP
    assert out["dist2_L"] == pytest.approx(norm2(np.ones(p.d) - p.x_star, p.L_bar), rel=1e-10)


def test_exact_extreme_x0_json_no_traceback(results):
    proc = results["e-extreme-x0"]
    assert "Traceback" not in proc.stderr, proc.stderr[-1500:]
    assert proc.returncode in (0, 2)
    if proc.returncode == 0:
        out = loads_strict(proc.stdout)
        assert out["diverged_at"] is not None
    else:
        lines = proc.stderr.splitlines()
        assert lines and lines[-1].startswith("isttheory: error:")


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_one_line_error(results, case):
    assert_one_line_error(results["bad:" + case], empty_stdout=True)


@pytest.mark.parametrize(
    "case, needle",
    [
        ("constants-unknown-sketch", "unknown sketch"),
        ("exact-unknown-sketch", "unknown sketch"),
        ("constants-perm-d-not-multiple-of-n", "multiple"),
        ("exact-perm-d-not-multiple-of-n", "multiple"),
        ("exact-precond-perm-n-ne-d", "n = d"),
        ("constants-gamma-0", "gamma"),
        ("constants-gamma-negative", "gamma"),
        ("constants-gamma-nan", "gamma"),
        ("exact-gamma-0", "gamma"),
        ("exact-gamma-negative", "gamma"),
        ("exact-gamma-inf", "gamma"),
        ("exact-iters-negative", "--iters"),
        ("constants-malformed-json", "JSON"),
        ("exact-malformed-json", "JSON"),
        ("exact-local-steps-with-sgd", "local steps"),
        ("exact-local-steps-default-form", "local steps"),
        ("exact-x0-wrong-length", "x0"),
        ("constants-missing-sketch", "--sketch"),
        ("exact-missing-gamma", "--gamma"),
    ],
)
def test_bad_input_messages_are_specific(results, case, needle):
    assert needle in results["bad:" + case].stderr


def test_constants_rate_row_states_its_definition(results):
    """The ``rate`` row (e.g. 4.496) was read as a contraction factor: the table labels it with its
    definition; the JSON key stays ``rate``."""
    text = ok(results, "c-perm-human").stdout
    row = next(ln for ln in text.splitlines() if ln.startswith("rate"))
    assert "λ_min(L̄^-1/2 W̄ L̄^-1/2) of (16), not a contraction factor" in row
    assert "rate" in ok_json(results, "c-perm-sgd")
