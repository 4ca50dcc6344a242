"""``isttheory verify`` reaches the formulas it relies on (issue 13).

A mutation campaign once changed three formulas that only one unit test each noticed, while
``isttheory verify --fast`` exited 0 with every verdict unchanged. Each test here applies one of them
with ``monkeypatch`` and runs only the verify claims concerned (``--only``): the verdict must change to an
unexpected REFUTED, and without the mutation the same claims pass.

1. Theorem 2's corrected right side, ``γσ²`` → ``γσ²/2``: the Monte Carlo check of (30) evaluates the one home,
   the lemma file ``thm2-corrected`` through :func:`isttheory.bounds.thm2_corrected_rhs` (it once had its own copy).
2. The exact limit ``‖h‖²_L̄ + γσ²/(2 − γ)`` → ``/(2 + γ)``: the check ``(30) limit`` compares the simulated and
   exact long-run ``E‖∇f‖²_{L̄⁻¹}`` with :func:`isttheory.bounds.thm2_limit` (lemma ``thm2-limit``), which
   only tests and notebooks used before.
3. ``x^∞ = E[B̄]⁻¹E[(Cb)‾]`` solved with ``Diag(E[B̄])``: the check ``(28) Perm-q`` runs the mean recursion where
   ``E[B̄]`` is not diagonal (Perm-4, n = 2, d = 8); on every (23) and Perm-1 instance the two agree.

Beyond the three: the exact dynamics engine, whose values the Monte Carlo checks only printed, now decides a
finding too (a Monte Carlo estimate that disagrees with it is an error), so a wrong moment recursion fails verify.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from isttheory import bounds, montecarlo, quantities
from isttheory.claims import Settings
from isttheory.dynamics import ExactDynamics
from isttheory.lemmas import Lemma, paper_lemma_path
from isttheory.verify import VerifyRun, run_verify

MC = "mc-bounds"


def _verify(*only: str) -> VerifyRun:
    return run_verify([], Settings(fast=True, seed=0), only=set(only))  # these claims are global


def _unexpected(run: VerifyRun) -> set[tuple[str, str, str]]:
    return {(c.id, f.instance, f.variant) for c, f in run.findings if c.unexpected(f)}


def _mutate_lemma(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lemma_id: str, old: str, new: str) -> None:
    """Serve a mutated copy of the paper lemma file ``lemma_id`` to :mod:`isttheory.bounds` (its one home)."""
    text = paper_lemma_path(lemma_id).read_text(encoding="utf-8")
    assert text.count(old) == 1, (lemma_id, old)
    path = tmp_path / f"{lemma_id}.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    mutated, original = Lemma.from_toml(path), bounds.paper_lemma
    monkeypatch.setattr(bounds, "paper_lemma", lambda i: mutated if i == lemma_id else original(i))


def _scaled(fn: Callable[..., float], **scale: float) -> Callable[..., float]:
    """``fn`` with some keyword arguments multiplied (a Python-level mutation of a bound's ingredient)."""
    def mutant(*args: Any, **kw: Any) -> float:
        names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
        kw.update(zip(names, args, strict=False))
        return fn(**{k: v * scale.get(k, 1.0) for k, v in kw.items()})
    return mutant


def test_the_claims_concerned_pass_without_a_mutation():
    run = _verify(MC, "proof:theorem2")
    assert _unexpected(run) == set()
    variants = {(f.instance, f.variant): f.verdict.value for c, f in run.findings if c.id == MC}
    assert variants[("heterogeneous, (23), generic", "(30)")] == "CORRECTED"
    assert variants[("heterogeneous, (23), exact limit", "(30)")] == "CORRECTED"
    assert variants[("heterogeneous, Perm-4 (E[B̄] not diagonal)", "(28)")] == "VERIFIED"


def test_mutant_1_corrected_thm2_sigma_term_halved_in_the_lemma_file(monkeypatch, tmp_path):
    _mutate_lemma(monkeypatch, tmp_path, "thm2-corrected", "+ gamma*sigma2\"", "+ gamma*sigma2/2\"")
    assert bounds.thm2_corrected_rhs(0.5, 1, 0.0, 0.0, 1.0) == pytest.approx(0.25)
    assert (MC, "heterogeneous, (23), generic", "(30)") in _unexpected(_verify(MC))


def test_mutant_1_corrected_thm2_sigma_term_halved_where_the_check_reads_it(monkeypatch):
    monkeypatch.setattr(montecarlo, "thm2_corrected_rhs", _scaled(bounds.thm2_corrected_rhs, sigma2=0.5))
    assert (MC, "heterogeneous, (23), generic", "(30)") in _unexpected(_verify(MC))


def test_mutant_2_exact_limit_two_plus_gamma_in_the_lemma_file(monkeypatch, tmp_path):
    _mutate_lemma(monkeypatch, tmp_path, "thm2-limit", "sigma2/(2 - gamma)", "sigma2/(2 + gamma)")
    assert bounds.thm2_limit(0.5, 0.0, 1.0) == pytest.approx(0.2)
    assert (MC, "heterogeneous, (23), exact limit", "(30)") in _unexpected(_verify(MC))


def test_mutant_2_exact_limit_two_plus_gamma_where_the_check_reads_it(monkeypatch):
    monkeypatch.setattr(montecarlo, "thm2_limit", lambda gamma, H, sigma2: H + gamma * sigma2 / (2 + gamma))
    assert (MC, "heterogeneous, (23), exact limit", "(30)") in _unexpected(_verify(MC))


def test_mutant_3_fixed_point_from_the_diagonal_of_EB(monkeypatch):
    def diagonal(EB: Any, ECb: Any, solve: Any) -> Any:
        return solve(np.diag(np.diag(EB)), ECb)

    monkeypatch.setattr(quantities, "fixed_point", diagonal)
    run = _verify(MC)
    assert _unexpected(run) == {(MC, "heterogeneous, Perm-4 (E[B̄] not diagonal)", "(28)")}


def test_a_wrong_exact_moment_recursion_is_an_error_of_verify(monkeypatch):
    """The second-moment step without its ``E[vmᵀAᵀ]`` term: the exact values move away from the simulation."""
    def step(self: ExactDynamics, m: Any, X: Any) -> tuple[Any, Any]:
        R = self.cross(m)
        return self.EA @ m + self.Ev, self.T(X) + 0.5 * (R + R.T) + self.Evv

    monkeypatch.setattr(ExactDynamics, "step", step)
    run = _verify(MC)
    errors = [f for c, f in run.findings if c.unexpected(f)]
    assert errors and all(f.errored and f.verdict.value == "INCONCLUSIVE" for f in errors)
    assert "disagree" in errors[0].message
